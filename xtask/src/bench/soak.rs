//! `cargo xtask soak`: one Latchkey under a long, steady, mixed load (bench/soak.lua: tokens,
//! introspection, admin reads and admin writes), its resident memory and open file descriptors
//! read every 10 s. It fails if any answer was not the one expected, if the server logged an
//! error, or if memory or file descriptors still grew in the last third of the run.
//!
//! Why the last third: a server holds bounded caches that fill at the pace of the load, not in
//! a fixed minute (SQLite's page cache, up to 2 MB per pooled connection, fills as the audit
//! trail grows; each pooled SQLite connection keeps its prepared multi-row audit inserts, one
//! per batch size; the route memo of each worker keeps up to 16,384 paths, and the soak's
//! writes make new paths). A leak grows at a steady pace; a bounded cache's growth slows and
//! stops. Too long for every CI run; SECURITY.md records its figures.
//! It shares the bench's machinery (server, database, wrk) and the same cleanup guarantees.

use super::*;

const USAGE: &str = "usage: cargo xtask soak [--minutes N] [--backend sqlite|postgres]";
/// wrk threads, each with one connection (bench/soak.lua needs one request in flight per thread).
const CONNECTIONS: u32 = 8;
const SAMPLE_SECONDS: u64 = 10;
/// Flat: in the last third of the run, the largest RSS is at most 2 % above the largest before
/// it, and the most file descriptors at most this many above the most before it (a database pool
/// may open again a connection it had closed as idle: a SQLite one costs up to three fds). Over
/// 10 minutes this catches a leak of about 2.3 MiB a minute, over 30 minutes one of 0.8.
const RSS_GROWTH_LIMIT: f64 = 0.02;
const FD_GROWTH_LIMIT: usize = 8;
/// Tokens of the run (the admin token and the introspected one) live this long: the provider's
/// longest lifetime, so a run may take at most 23 hours.
const TOKEN_LIFETIME: u64 = 86_400;

pub fn run(args: &[String]) -> anyhow::Result<()> {
    let (minutes, backend) = parse(args)?;
    for tool in ["wrk", "curl"] {
        if Command::new(tool).arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_err() {
            bail!("the soak needs `{tool}` on the PATH (Debian: apt-get install -y {tool})");
        }
    }
    let machine = Machine::read()?;
    println!("{}", machine.describe());
    crate::build_server_binary(&[])?;
    let out = crate::target_dir()?.join("bench");
    fs::create_dir_all(out.join("logs"))?;
    let opts = Options { quick: false, only: vec![], backends: vec![backend], memory_minutes: None, peer: false };
    let bench = Bench::new(opts, crate::project_root(), out)?;
    let database = Database::fresh(backend, "soak")?;
    let mut server = Latchkey::new(&bench, backend, "soak", &database)?;
    server.start()?;
    let base = server.base();

    // Tokens that outlive the run, then the bench realm, its client and provider.
    let lifetime = format!(r#"{{"access_token_lifetime":{TOKEN_LIFETIME}}}"#);
    Admin::sign_in(&base)?.call("PATCH", "/realms/root/oauth2-provider", Some(&lifetime))?;
    let admin = Admin::sign_in(&base)?;
    setup_bench_realm(&admin)?;
    admin.call("PATCH", &format!("/realms/{REALM}/oauth2-provider"), Some(&lifetime))?;
    let auth = basic(CLIENT_ID, CLIENT_SECRET);
    let introspected = Req::post(&realm_path(REALM, "access_token"), &auth, TOKEN_BODY).access_token(&base)?;

    let seconds = minutes * 60;
    let env = vec![
        ("SOAK_REALM", REALM.to_owned()),
        ("SOAK_CLIENT_AUTH", auth),
        ("SOAK_TOKEN", introspected),
        ("SOAK_ADMIN_TOKEN", admin.token.clone()),
    ];
    let load = Load {
        url: base.clone(),
        script: "soak.lua",
        env,
        conns: CONNECTIONS,
        threads: CONNECTIONS,
        seconds,
        once: false,
    };
    let target = server.target();
    println!(
        "soak ({}): {minutes} min of mixed load on {CONNECTIONS} connections; RSS and open fds every {SAMPLE_SECONDS} s",
        target.name
    );
    let started = Instant::now();
    let cpu_before = cpu_micros(target.pid, bench.clock_ticks)?;
    let mut wrk = Running::spawn_piped(bench.wrk_command(&load))?;
    let mut samples = vec![Sample::read(0, target.pid)?];
    println!("  {:>5}  {:>10}  {:>4}", "s", "RSS", "fds");
    while !wrk.exited()? {
        std::thread::sleep(Duration::from_secs(SAMPLE_SECONDS));
        let sample = Sample::read(started.elapsed().as_secs(), target.pid)?;
        println!("  {:>5}  {:>10}  {:>4}", sample.seconds, mib(sample.rss_kib), sample.fds);
        samples.push(sample);
    }
    let cpu_us = cpu_micros(target.pid, bench.clock_ticks)? - cpu_before;
    let out = WrkOut::parse(&wrk.stdout()?)?;
    drop(server);
    let logged_errors = count_errors(&server_log(&bench, backend));
    let report = Report { backend, minutes, out, cpu_us, samples, logged_errors };
    println!("{}", report.summary());
    report.verdict()
}

fn parse(args: &[String]) -> anyhow::Result<(u64, Backend)> {
    let (mut minutes, mut backend) = (10, Backend::Sqlite);
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let value = it.next().with_context(|| format!("{arg} needs a value\n{USAGE}"))?;
        match arg.as_str() {
            "--minutes" => minutes = value.parse().context("--minutes takes a whole number")?,
            "--backend" => match backends(Some(value))?.as_slice() {
                [one] => backend = *one,
                _ => bail!("--backend takes one backend\n{USAGE}"),
            },
            _ => bail!("unknown argument `{arg}`\n{USAGE}"),
        }
    }
    if minutes == 0 || minutes * 60 + 600 > TOKEN_LIFETIME {
        bail!("--minutes takes 1 to {}", (TOKEN_LIFETIME - 600) / 60);
    }
    Ok((minutes, backend))
}

/// The server's log: the bench's logs directory, `latchkey-BACKEND-soak.log`.
fn server_log(bench: &Bench, backend: Backend) -> PathBuf {
    bench.out.join("logs").join(format!("latchkey-{}-soak.log", backend.name()))
}

/// Lines the server logged at ERROR (its RUST_LOG is `warn`).
fn count_errors(log: &Path) -> usize {
    fs::read_to_string(log).unwrap_or_default().lines().filter(|l| l.contains("ERROR")).count()
}

struct Sample {
    seconds: u64,
    rss_kib: u64,
    fds: usize,
}

impl Sample {
    fn read(seconds: u64, pid: u32) -> anyhow::Result<Sample> {
        let fds = fs::read_dir(format!("/proc/{pid}/fd")).context("the server is gone")?.count();
        Ok(Sample { seconds, rss_kib: rss_kib(pid)?, fds })
    }
}

struct Report {
    backend: Backend,
    minutes: u64,
    out: WrkOut,
    cpu_us: u64,
    samples: Vec<Sample>,
    logged_errors: usize,
}

impl Report {
    /// The largest RSS and fd count up to two thirds of the run, then in the last third.
    fn thirds(&self) -> ((u64, usize), (u64, usize)) {
        let end = self.samples[self.samples.len() - 1].seconds;
        let (before, last): (Vec<&Sample>, Vec<&Sample>) = self.samples.iter().partition(|s| s.seconds * 3 < end * 2);
        let most = |samples: &[&Sample]| samples.iter().fold((0, 0), |(r, f), s| (r.max(s.rss_kib), f.max(s.fds)));
        (most(&before), most(&last))
    }

    fn summary(&self) -> String {
        let run = self.out.run(self.cpu_us, false);
        let (first, last) = (&self.samples[0], &self.samples[self.samples.len() - 1]);
        let ((rss_before, fds_before), (rss_last, fds_last)) = self.thirds();
        format!(
            "soak ({}, {} min): {} requests, {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms, {:.0} µs CPU/req; {} errors \
             ({} unexpected answers, {} transport), {} server log lines at ERROR; RSS {} at start, at most {} in \
             the first two thirds, at most {} in the last third, {} at the end; open fds {} at start, at most {} in \
             the first two thirds, at most {} in the last third, {} at the end",
            self.backend.name(),
            self.minutes,
            run.requests,
            run.rps(),
            run.p50_us as f64 / 1000.0,
            run.p99_us as f64 / 1000.0,
            self.cpu_us as f64 / run.requests.max(1) as f64,
            self.out.get("errors"),
            self.out.get("unexpected"),
            self.out.get("transport"),
            self.logged_errors,
            mib(first.rss_kib),
            mib(rss_before),
            mib(rss_last),
            mib(last.rss_kib),
            first.fds,
            fds_before,
            fds_last,
            last.fds,
        )
    }

    fn verdict(&self) -> anyhow::Result<()> {
        self.out.check()?;
        if self.logged_errors > 0 {
            bail!("the server logged {} error(s); see its log", self.logged_errors);
        }
        let ((rss_before, fds_before), (rss_last, fds_last)) = self.thirds();
        if rss_last as f64 > rss_before as f64 * (1.0 + RSS_GROWTH_LIMIT) {
            bail!("memory still grew in the last third: at most {} before, {} then", mib(rss_before), mib(rss_last));
        }
        if fds_last > fds_before + FD_GROWTH_LIMIT {
            bail!("open file descriptors still grew in the last third: at most {fds_before} before, {fds_last} then");
        }
        println!("soak: no error; memory and file descriptors flat");
        Ok(())
    }
}
