//! `cargo xtask bench`: Latchkey under load, beside a peer and a floor measured in the same run.
//!
//! It builds the release server and the floor (`bench/floor`, bare actix-web answering a body
//! the size of Latchkey's token response), starts each server on a fresh database (SQLite, and
//! PostgreSQL when reachable), sets it up through the admin API (`curl`), drives it with `wrk`
//! and the Lua scripts in `bench/`, prints one line per scenario and connection count, and
//! writes everything to `bench/results.{json,md}` under cargo's target directory (`target/`, or
//! CARGO_TARGET_DIR), with the servers' logs in `bench/logs/`. The peer is panva's oidc-provider
//! (`bench/peer`), once with opaque and once with JWT access tokens. Every process, scratch
//! directory and PostgreSQL database the bench starts or creates is removed on the way out, also
//! on error (drop guards).
//!
//! How a figure is made: after a warm-up, each repetition runs wrk at the given connections on
//! keep-alive connections; the server's CPU time (utime + stime from `/proc/PID/stat`) is read
//! before and after, and divided by the requests. A scenario with any error (transport, or any
//! answer but the expected status, counted by the scripts' `response` hook) fails. Requests/s
//! and p50 are the median of the repetitions, p99 the worst repetition's; RSS is read after the
//! scenario. wrk runs on the same cores as the server, as every server here does.

use anyhow::{Context, bail};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

pub mod soak;

const USAGE: &str = "usage: cargo xtask bench [--quick] [--only NAME[,NAME…]] [--backend sqlite|postgres|both] \
                     [--memory-minutes N] [--no-peer]";

/// What `--only` selects from; a name also selects the scenarios it prefixes (`token`,
/// `introspect`). `many-tenants` is its first pass, its token load and the two admin lists.
const SCENARIOS: [&str; 9] = [
    "token-es256",
    "token-rs256",
    "token-eddsa",
    "introspect-valid",
    "introspect-revoked",
    "jwks",
    "discovery",
    "cold-clients",
    "many-tenants",
];

const OPERATOR_ID: &str = "bench-operator";
const OPERATOR_SECRET: &str = "bench-operator-secret-0123456789";
/// Fixed bootstrap settings, so the server neither generates nor prints credentials or a key.
const ADMIN_USERNAME: &str = "bench-admin";
const ADMIN_PASSWORD: &str = "bench-admin-password-0123456789";
const MASTER_KEY: &str = "YmVuY2gtbWFzdGVyLWtleS1ub3QtYS1zZWNyZXQtMDE=";
const REALM: &str = "bench";
const CLIENT_ID: &str = "bench-client";
const CLIENT_SECRET: &str = "bench-client-secret-0123456789";
/// The peer's one client (see the header of bench/peer/server.mjs).
const PEER_ID: &str = "peer-client";
const PEER_SECRET: &str = "peer-secret-0123456789abcdef";
const TOKEN_BODY: &str = "grant_type=client_credentials&scope=read";
const FORM: &str = "application/x-www-form-urlencoded";
const JSON: &str = "application/json";
const COLD_CLIENTS: usize = 1_000;
const APPS_PER_REALM: usize = 10;
/// Realm files per `latchkey realm import`: few processes, and short command lines.
const IMPORT_BATCH: usize = 500;
/// The admin lists' target (issue "Performance").
const ADMIN_P99_TARGET_US: u64 = 50_000;
const MEMORY_SAMPLE_SECONDS: u64 = 10;

pub fn run(args: &[String]) -> anyhow::Result<()> {
    let opts = Options::parse(args)?;
    let root = crate::project_root();
    for tool in ["wrk", "curl"] {
        if Command::new(tool).arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_err() {
            bail!("the bench needs `{tool}` on the PATH (Debian: apt-get install -y {tool})");
        }
    }
    let machine = Machine::read()?;
    println!("{}", machine.describe());
    crate::touch(&root.join("bench/floor/src/main.rs"))?;
    crate::build_server_binary(&["-p", "latchkey-bench-floor", "--bin", "latchkey-bench-floor"])?;
    let out = crate::target_dir()?.join("bench");
    fs::create_dir_all(out.join("logs"))?;
    let mut bench = Bench::new(opts, root, out)?;
    println!("{}", bench.plan.describe(&bench.opts));
    bench.results.sign_costs = sign_costs()?;
    for c in bench.results.sign_costs.clone() {
        let line =
            format!("crypto, one core: {} signs in {:.1} µs, verifies in {:.1} µs", c.alg, c.sign_us, c.verify_us);
        bench.results.note(line);
    }
    let outcome = bench.run_all();
    bench.results.write(&bench.out, &machine, &bench.plan.describe(&bench.opts))?;
    outcome?;
    let failed = bench.results.rows.iter().filter(|r| r.failure.is_some()).count();
    if failed > 0 {
        bail!("{failed} scenario(s) failed; see above and the server logs in {}", bench.out.join("logs").display());
    }
    Ok(())
}

#[derive(Debug)]
struct Options {
    quick: bool,
    only: Vec<String>,
    backends: Vec<Backend>,
    memory_minutes: Option<u64>,
    peer: bool,
}

impl Options {
    fn parse(args: &[String]) -> anyhow::Result<Options> {
        let (mut quick, mut only, mut backend, mut memory_minutes, mut peer) = (false, vec![], None, None, true);
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            let mut value = || it.next().with_context(|| format!("{arg} needs a value\n{USAGE}"));
            match arg.as_str() {
                "--quick" => quick = true,
                "--no-peer" => peer = false,
                "--only" => only.extend(value()?.split(',').map(str::to_owned)),
                "--backend" => backend = Some(value()?.clone()),
                "--memory-minutes" => {
                    memory_minutes = Some(value()?.parse().context("--memory-minutes takes a whole number")?)
                }
                _ => bail!("unknown argument `{arg}`\n{USAGE}"),
            }
        }
        if let Some(name) = only.iter().find(|n| !SCENARIOS.iter().any(|s| selects(n, s))) {
            bail!("--only {name}: no such scenario; they are {}", SCENARIOS.join(", "));
        }
        Ok(Options { quick, only, backends: backends(backend.as_deref())?, memory_minutes, peer })
    }

    /// Whether a scenario runs: every one by default, none but the memory run with
    /// `--memory-minutes`, the named ones with `--only`.
    fn runs(&self, scenario: &str) -> bool {
        match self.only.is_empty() {
            true => self.memory_minutes.is_none(),
            false => self.only.iter().any(|n| selects(n, scenario)),
        }
    }

    /// The peer scenarios the selected Latchkey scenarios are compared with.
    fn peer_runs(&self, peer_scenario: &str) -> bool {
        self.peer && SCENARIOS.iter().any(|s| self.runs(s) && compared_with_peer(s) == Some(peer_scenario))
    }
}

fn selects(name: &str, scenario: &str) -> bool {
    scenario.strip_prefix(name).is_some_and(|rest| rest.is_empty() || rest.starts_with('-'))
}

fn backends(choice: Option<&str>) -> anyhow::Result<Vec<Backend>> {
    let postgres = || {
        if !crate::postgres_reachable() {
            bail!("PostgreSQL is not answering on 127.0.0.1:5432 (trust auth for user postgres)");
        }
        Ok(())
    };
    Ok(match choice {
        Some("sqlite") => vec![Backend::Sqlite],
        Some("postgres") => postgres().map(|()| vec![Backend::Postgres])?,
        Some("both") => postgres().map(|()| vec![Backend::Sqlite, Backend::Postgres])?,
        None if crate::postgres_reachable() => vec![Backend::Sqlite, Backend::Postgres],
        None => {
            eprintln!("xtask: PostgreSQL is not answering on 127.0.0.1:5432: SQLite only");
            vec![Backend::Sqlite]
        }
        Some(other) => bail!("--backend {other}: expected sqlite, postgres or both"),
    })
}

/// The peer scenario a Latchkey scenario is read against (the many-tenants token load too).
fn compared_with_peer(scenario: &str) -> Option<&'static str> {
    match scenario {
        s if s.starts_with("token-") || s == "many-tenants" || s == "many-tenants-token" => Some("token"),
        "introspect-valid" => Some("introspect-valid"),
        "introspect-revoked" => Some("introspect-revoked"),
        "jwks" => Some("jwks"),
        "discovery" => Some("discovery"),
        _ => None,
    }
}

/// Durations and sizes: the issue's, or `--quick`'s for development and smoke runs.
#[derive(Debug)]
struct Plan {
    seconds: u64,
    warmup: u64,
    repetitions: usize,
    connections: Vec<u32>,
    realms: usize,
}

impl Plan {
    fn new(quick: bool) -> Plan {
        match quick {
            true => Plan { seconds: 3, warmup: 1, repetitions: 1, connections: vec![16], realms: 1_000 },
            false => Plan { seconds: 15, warmup: 5, repetitions: 2, connections: vec![16, 64], realms: 10_000 },
        }
    }

    fn describe(&self, opts: &Options) -> String {
        let backends: Vec<&str> = opts.backends.iter().map(|b| b.name()).collect();
        format!(
            "plan: {} s per measurement after a {} s warm-up, {} repetition(s), {:?} connections; {} realms × {} \
             applications for many-tenants; backends: {}",
            self.seconds,
            self.warmup,
            self.repetitions,
            self.connections,
            self.realms,
            APPS_PER_REALM,
            backends.join(", ")
        )
    }
}

/// What a run knows: options, paths, the figures so far.
struct Bench {
    opts: Options,
    plan: Plan,
    root: PathBuf,
    out: PathBuf,
    scratch: Scratch,
    binary: PathBuf,
    clock_ticks: u64,
    results: Results,
    /// The known secret and its argon2id hash that every imported application shares.
    seed: Option<(String, String)>,
}

impl Bench {
    fn new(opts: Options, root: PathBuf, out: PathBuf) -> anyhow::Result<Bench> {
        let ticks = Command::new("getconf").arg("CLK_TCK").output().context("getconf CLK_TCK")?;
        let clock_ticks = String::from_utf8(ticks.stdout)?.trim().parse().context("CLK_TCK is a number")?;
        Ok(Bench {
            plan: Plan::new(opts.quick),
            opts,
            root,
            out,
            scratch: Scratch::new()?,
            binary: crate::server_binary()?,
            clock_ticks,
            results: Results::default(),
            seed: None,
        })
    }

    fn run_all(&mut self) -> anyhow::Result<()> {
        if self.opts.peer && SCENARIOS.iter().any(|s| self.opts.runs(s) && compared_with_peer(s).is_some()) {
            ensure_peer_installed(&self.root)?;
            for format in ["jwt", "opaque"] {
                self.peer(format)?;
            }
        }
        for backend in self.opts.backends.clone() {
            self.latchkey(backend)?;
            if self.opts.runs("many-tenants") {
                self.many_tenants(backend)?;
            }
        }
        Ok(())
    }

    /// The single-realm scenarios (1–4, and the memory run) on one backend.
    fn latchkey(&mut self, backend: Backend) -> anyhow::Result<()> {
        let database = Database::fresh(backend, "main")?;
        let mut server = Latchkey::new(self, backend, "main", &database)?;
        server.start()?;
        let admin = Admin::sign_in(&server.base())?;
        setup_bench_realm(&admin)?;
        let auth = basic(CLIENT_ID, CLIENT_SECRET);
        let token = Req::post(&realm_path(REALM, "access_token"), &auth, TOKEN_BODY);
        if !self.results.has_server("floor") && SCENARIOS.iter().any(|s| self.opts.runs(s)) {
            let (_, body) = token.expect(&server.base(), 200, "access_token")?;
            self.floor(body.len())?;
        }
        for (scenario, alg) in [("token-es256", "ES256"), ("token-rs256", "RS256"), ("token-eddsa", "EdDSA")] {
            if self.opts.runs(scenario) {
                admin.call("PATCH", &format!("/realms/{REALM}/oauth2-provider"), Some(&signing_alg(alg)))?;
                self.fixed(scenario, &server.target(), &token, "access_token");
            }
        }
        admin.call("PATCH", &format!("/realms/{REALM}/oauth2-provider"), Some(&signing_alg("ES256")))?;
        let (introspect, revoke) = (realm_path(REALM, "introspect"), realm_path(REALM, "token/revoke"));
        self.introspection(&server.target(), &auth, &token, &introspect, &revoke)?;
        self.documents(
            &server.target(),
            &realm_path(REALM, "connect/jwk_uri"),
            &realm_path(REALM, ".well-known/openid-configuration"),
        );
        if let Some(minutes) = self.opts.memory_minutes {
            self.memory(&server.target(), &token, minutes)?;
        }
        if self.opts.runs("cold-clients") {
            self.cold_clients(&mut server, &admin)?;
        }
        Ok(())
    }

    /// The peer, with opaque or JWT (RS256) access tokens, on the same loads.
    fn peer(&mut self, format: &str) -> anyhow::Result<()> {
        let port = free_port()?;
        let base = format!("http://127.0.0.1:{port}");
        let log = self.log(&format!("peer-{format}"))?;
        let mut command = Command::new("node");
        command.arg("server.mjs").current_dir(self.root.join("bench/peer"));
        command.env("PORT", port.to_string()).env("ACCESS_TOKEN_FORMAT", format);
        let mut peer = Running::spawn(command, &log)?;
        peer.wait_ready(&format!("{base}/.well-known/openid-configuration"), &log)?;
        let target = Target { name: format!("peer-{format}"), base, pid: peer.pid() };
        let auth = basic(PEER_ID, PEER_SECRET);
        let token = Req::post("/token", &auth, TOKEN_BODY);
        if self.opts.peer_runs("token") {
            self.fixed("token", &target, &token, "access_token");
        }
        // oidc-provider refuses to introspect or revoke its JWT access tokens (its design, see
        // the header of bench/peer/server.mjs): resource servers verify those against the JWKS.
        if format == "opaque" {
            self.introspection(&target, &auth, &token, "/token/introspection", "/token/revocation")?;
        }
        self.documents(&target, "/jwks", "/.well-known/openid-configuration");
        Ok(())
    }

    /// The floor: bare actix-web answering `body_bytes` (Latchkey's ES256 token response).
    fn floor(&mut self, body_bytes: usize) -> anyhow::Result<()> {
        let port = free_port()?;
        let base = format!("http://127.0.0.1:{port}");
        let log = self.log("floor")?;
        let mut command = Command::new(self.binary.with_file_name("latchkey-bench-floor"));
        command.arg(format!("127.0.0.1:{port}")).arg(body_bytes.to_string());
        let mut floor = Running::spawn(command, &log)?;
        floor.wait_ready(&format!("{base}/"), &log)?;
        let target = Target { name: "floor".into(), base, pid: floor.pid() };
        let token = Req::post("/token", &basic(CLIENT_ID, CLIENT_SECRET), TOKEN_BODY);
        self.fixed("floor", &target, &token, "access_token");
        Ok(())
    }

    /// Scenario 2: introspection of a valid token and of a revoked one.
    fn introspection(
        &mut self,
        target: &Target,
        auth: &str,
        token: &Req,
        introspect: &str,
        revoke: &str,
    ) -> anyhow::Result<()> {
        for (scenario, revoked) in [("introspect-valid", false), ("introspect-revoked", true)] {
            let runs = match target.name.starts_with("peer") {
                true => self.opts.peer_runs(scenario),
                false => self.opts.runs(scenario),
            };
            if !runs {
                continue;
            }
            let access_token = token.access_token(&target.base)?;
            let body = format!("token={access_token}");
            if revoked {
                Req::post(revoke, auth, &body).expect(&target.base, 200, "")?;
            }
            let marker = if revoked { r#""active":false"# } else { r#""active":true"# };
            self.fixed(scenario, target, &Req::post(introspect, auth, &body), marker);
        }
        Ok(())
    }

    /// Scenario 3: the JWKS and the discovery document.
    fn documents(&mut self, target: &Target, jwks: &str, discovery: &str) {
        let peer = target.name.starts_with("peer");
        for (scenario, path, marker) in [("jwks", jwks, "\"keys\""), ("discovery", discovery, "\"token_endpoint\"")] {
            if (peer && self.opts.peer_runs(scenario)) || (!peer && self.opts.runs(scenario)) {
                self.fixed(scenario, target, &Req::get(path), marker);
            }
        }
    }

    /// A steady load of one fixed request, after checking once that it answers 200 with
    /// `marker` in the body (a benchmark of errors is worthless).
    fn fixed(&mut self, scenario: &str, target: &Target, req: &Req, marker: &str) {
        let checked = req.expect(&target.base, 200, marker);
        let load = Load::fixed(&target.base, req);
        self.steady(scenario, target, checked.map(|_| load));
    }

    /// Measures a steady load at each connection count of the plan: a warm-up, then the
    /// repetitions, each between two readings of the server's CPU time; the RSS at the end.
    fn steady(&mut self, scenario: &str, target: &Target, load: anyhow::Result<Load>) {
        for &conns in &self.plan.connections.clone() {
            let mut row = Row::new(scenario, &target.name, conns);
            let measured = load.as_ref().map_err(|e| anyhow::anyhow!("{e:#}")).and_then(|load| {
                let load = load.with(conns, conns.min(2));
                self.wrk(&load.for_seconds(self.plan.warmup))?.check().context("warm-up")?;
                for _ in 0..self.plan.repetitions {
                    row.runs.push(self.measure(target, &load.for_seconds(self.plan.seconds))?);
                }
                Ok(())
            });
            self.finish(row, target, measured);
        }
    }

    /// One wrk run between two readings of the server's CPU time.
    fn measure(&self, target: &Target, load: &Load) -> anyhow::Result<Run> {
        let before = cpu_micros(target.pid, self.clock_ticks)?;
        let out = self.wrk(load)?;
        let cpu = cpu_micros(target.pid, self.clock_ticks)? - before;
        out.check()?;
        Ok(out.run(cpu, load.once))
    }

    fn finish(&mut self, mut row: Row, target: &Target, measured: anyhow::Result<()>) {
        row.failure = measured.err().map(|e| format!("{e:#}"));
        row.rss_kib = rss_kib(target.pid).ok();
        self.results.record(row);
    }

    /// Scenario 4: 1,000 new clients each asking once, so each first request pays argon2id.
    /// Each repetition restarts the server, which forgets every verified secret.
    fn cold_clients(&mut self, server: &mut Latchkey, admin: &Admin) -> anyhow::Result<()> {
        let create = self.scratch.path("cold-create.list");
        let bearer = format!("Bearer {}", admin.token);
        write_lines(&create, (1..=COLD_CLIENTS).map(|i| {
            let body = format!(
                r#"{{"client_id":"cold-{i:04}","client_secret":"cold-secret-{i:04}-0123456789","grant_types":["client_credentials"],"allowed_scopes":["read"]}}"#
            );
            format!("POST\t/admin/v1/realms/{REALM}/applications\t{bearer}\t{body}")
        }))?;
        let started = Instant::now();
        let created = Load::list(&server.base(), &create, true, 4).expecting(201).content_type(JSON);
        self.wrk(&created)?.check().context("creating the cold clients")?;
        self.results.note(format!(
            "{}: created {COLD_CLIENTS} applications through the admin API in {:.1} s",
            server.name,
            started.elapsed().as_secs_f64()
        ));
        let list = self.scratch.path("cold-token.list");
        write_lines(
            &list,
            (1..=COLD_CLIENTS).map(|i| {
                let auth = basic(&format!("cold-{i:04}"), &format!("cold-secret-{i:04}-0123456789"));
                format!("POST\t{}\t{auth}\t{TOKEN_BODY}", realm_path(REALM, "access_token"))
            }),
        )?;
        let mut fresh = true;
        for &conns in &self.plan.connections.clone() {
            let mut row = Row::new("cold-clients", &server.name, conns);
            let mut measured = Ok(());
            for _ in 0..self.plan.repetitions {
                if !fresh {
                    server.start()?;
                }
                fresh = false;
                match self.measure(&server.target(), &Load::list(&server.base(), &list, true, conns)) {
                    Ok(run) => row.runs.push(run),
                    Err(e) => measured = Err(e),
                }
            }
            self.finish(row, &server.target(), measured);
        }
        Ok(())
    }

    /// Scenario 5: `plan.realms` realms of 10 applications each, imported before the server
    /// starts; one random client per realm asks for tokens (a first pass, then steady state),
    /// and the admin API lists realms and applications.
    fn many_tenants(&mut self, backend: Backend) -> anyhow::Result<()> {
        let (secret, hash) = self.seed()?;
        let database = Database::fresh(backend, "tenants")?;
        let mut server = Latchkey::new(self, backend, "tenants", &database)?;
        server.cli(&["migrate"])?;
        self.import_realms(&server, &hash)?;
        server.start()?;
        let mut rng = Rng::seeded();
        let list = self.scratch.path(&format!("{}-tenants.list", backend.name()));
        write_lines(
            &list,
            (0..self.plan.realms).map(|i| {
                let auth = basic(&format!("c{}", rng.below(APPS_PER_REALM)), &secret);
                format!("POST\t{}\t{auth}\t{TOKEN_BODY}", realm_path(&tenant(i), "access_token"))
            }),
        )?;
        let first = self.plan.connections[0];
        let mut row = Row::new("many-tenants-first-pass", &server.name, first);
        let measured = self.measure(&server.target(), &Load::list(&server.base(), &list, true, first)).map(|run| {
            row.runs.push(run);
        });
        self.finish(row, &server.target(), measured);
        let load = Load::list(&server.base(), &list, false, 1);
        self.steady("many-tenants-token", &server.target(), Ok(load));
        self.admin_lists(&server)
    }

    /// The admin API's realm list (random pages of 50) and application lists (random realms).
    fn admin_lists(&mut self, server: &Latchkey) -> anyhow::Result<()> {
        let bearer = format!("Bearer {}", Admin::sign_in(&server.base())?.token);
        let pages = (self.plan.realms + 1).div_ceil(50);
        let realms = self.scratch.path("admin-realms.list");
        write_lines(&realms, (1..=pages).map(|p| format!("GET\t/admin/v1/realms?page={p}&per_page=50\t{bearer}\t")))?;
        let apps = self.scratch.path("admin-applications.list");
        write_lines(
            &apps,
            (0..self.plan.realms).map(|i| format!("GET\t/admin/v1/realms/{}/applications\t{bearer}\t", tenant(i))),
        )?;
        for (scenario, list) in [("admin-realm-list", realms), ("admin-application-list", apps)] {
            self.steady(scenario, &server.target(), Ok(Load::list(&server.base(), &list, false, 1)));
        }
        Ok(())
    }

    /// Writes the tenants' realm documents and imports them, `IMPORT_BATCH` files per process.
    fn import_realms(&mut self, server: &Latchkey, hash: &str) -> anyhow::Result<()> {
        let dir = self.scratch.path(&format!("{}-realms", server.name));
        fs::create_dir_all(&dir)?;
        let started = Instant::now();
        for batch in (0..self.plan.realms).collect::<Vec<_>>().chunks(IMPORT_BATCH) {
            let mut files = Vec::new();
            for &i in batch {
                let file = dir.join(format!("{}.json", tenant(i)));
                let apps: Vec<String> = (0..APPS_PER_REALM).map(|c| format!("c{c}")).collect();
                fs::write(&file, realm_document(&tenant(i), &apps, Some(hash)))?;
                files.push(file);
            }
            let mut command = server.command();
            command.args(["realm", "import"]).args(&files);
            let out = command.stdout(Stdio::null()).output().context("running latchkey realm import")?;
            if !out.status.success() {
                bail!("latchkey realm import failed:\n{}", String::from_utf8_lossy(&out.stderr));
            }
            files.iter().try_for_each(fs::remove_file)?;
            eprintln!("xtask: imported {} of {} realms", batch[batch.len() - 1] + 1, self.plan.realms);
        }
        self.results.note(format!(
            "{}: imported {} realms × {APPS_PER_REALM} applications in {:.0} s ({IMPORT_BATCH} files per `latchkey \
             realm import`)",
            server.name,
            self.plan.realms,
            started.elapsed().as_secs_f64()
        ));
        Ok(())
    }

    /// One argon2id PHC hash (OWASP parameters, made by Latchkey itself) of a secret the bench
    /// knows, for every imported application, so the import hashes nothing: `latchkey realm
    /// import` generates and prints a secret for a new application without a hash, and `latchkey
    /// realm export` shows its hash. Made once per run, in a scratch SQLite database.
    fn seed(&mut self) -> anyhow::Result<(String, String)> {
        if let Some(seed) = &self.seed {
            return Ok(seed.clone());
        }
        let database = Database::fresh(Backend::Sqlite, "seed")?;
        let server = Latchkey::new(self, Backend::Sqlite, "seed", &database)?;
        server.cli(&["migrate"])?;
        let file = self.scratch.path("seed.json");
        fs::write(&file, realm_document("seed", &["seed".to_owned()], None))?;
        let printed = server.cli(&["realm", "import", file.to_str().context("a UTF-8 path")?])?;
        let prefix = "client_secret of application seed (shown only this once): ";
        let secret = printed.lines().find_map(|l| l.strip_prefix(prefix)).context("the import printed no secret")?;
        let exported = server.cli(&["realm", "export", "seed"])?;
        let hash = json_string(&exported, "secret_hash").context("the export has no secret_hash")?;
        self.seed = Some((secret.to_owned(), hash.to_owned()));
        Ok((secret.to_owned(), hash.to_owned()))
    }

    /// `--memory-minutes`: steady ES256 token load, the server's RSS every 10 s.
    fn memory(&mut self, target: &Target, token: &Req, minutes: u64) -> anyhow::Result<()> {
        let load = Load::fixed(&target.base, token).with(16, 2).for_seconds(minutes * 60);
        let started = Instant::now();
        let cpu_before = cpu_micros(target.pid, self.clock_ticks)?;
        let mut wrk = Running::spawn_piped(self.wrk_command(&load))?;
        let mut samples = vec![(0, rss_kib(target.pid)?)];
        println!("memory ({}): RSS every {MEMORY_SAMPLE_SECONDS} s under 16 connections", target.name);
        while !wrk.exited()? {
            std::thread::sleep(Duration::from_secs(MEMORY_SAMPLE_SECONDS));
            let sample = (started.elapsed().as_secs(), rss_kib(target.pid)?);
            println!("  {:>5} s  {}", sample.0, mib(sample.1));
            samples.push(sample);
        }
        let cpu = cpu_micros(target.pid, self.clock_ticks)? - cpu_before;
        let out = WrkOut::parse(&wrk.stdout()?)?;
        let mut row = Row::new("memory-token-es256", &target.name, 16);
        let measured = out.check().map(|()| row.runs.push(out.run(cpu, false)));
        let (first, last) = (samples[0].1, samples[samples.len() - 1].1);
        let after_minute = samples.iter().find(|s| s.0 >= 60).map_or(first, |s| s.1);
        self.results.note(format!(
            "{}: memory over {minutes} min of token load: RSS {} → {} ({:+.1} MiB; {:+.1} MiB after the first minute)",
            target.name,
            mib(first),
            mib(last),
            (last as f64 - first as f64) / 1024.0,
            (last as f64 - after_minute as f64) / 1024.0
        ));
        row.rss_samples = samples;
        self.finish(row, target, measured);
        Ok(())
    }

    fn wrk_command(&self, load: &Load) -> Command {
        let mut c = Command::new("wrk");
        c.arg(format!("-t{}", load.threads))
            .arg(format!("-c{}", load.conns))
            .arg(format!("-d{}s", load.seconds))
            .args(["--timeout", "30s", "-s"])
            .arg(self.root.join("bench").join(load.script))
            .arg(&load.url)
            .envs(load.env.iter().map(|(k, v)| (*k, v)))
            .env("BENCH_THREADS", load.threads.to_string())
            .env("BENCH_DONE_FILE", self.scratch.path(&format!("done-{}", unique())));
        c
    }

    fn wrk(&self, load: &Load) -> anyhow::Result<WrkOut> {
        let out = self.wrk_command(load).output().context("running wrk")?;
        if !out.status.success() {
            bail!("wrk failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        WrkOut::parse(&String::from_utf8_lossy(&out.stdout))
    }

    fn log(&self, name: &str) -> anyhow::Result<PathBuf> {
        let path = self.out.join("logs").join(format!("{name}.log"));
        fs::write(&path, "")?;
        Ok(path)
    }
}

fn setup_bench_realm(admin: &Admin) -> anyhow::Result<()> {
    admin.call("POST", "/realms", Some(&format!(r#"{{"name":"{REALM}"}}"#)))?;
    let provider = r#"{"signing_alg":"ES256","rate_limits":{"per_client":0,"per_address":0}}"#;
    admin.call("PATCH", &format!("/realms/{REALM}/oauth2-provider"), Some(provider))?;
    let app = format!(
        r#"{{"client_id":"{CLIENT_ID}","client_secret":"{CLIENT_SECRET}","grant_types":["client_credentials"],"allowed_scopes":["read"]}}"#
    );
    admin.call("POST", &format!("/realms/{REALM}/applications"), Some(&app))?;
    Ok(())
}

fn signing_alg(alg: &str) -> String {
    format!(r#"{{"signing_alg":"{alg}"}}"#)
}

fn realm_path(realm: &str, endpoint: &str) -> String {
    format!("/oauth2/realms/{realm}/{endpoint}")
}

fn tenant(i: usize) -> String {
    format!("tenant-{i:05}")
}

/// A realm document (`latchkey realm export`'s format) with ES256 signing, rate limits off, and
/// confidential client_credentials applications sharing `secret_hash` (none: the import
/// generates a secret).
fn realm_document(name: &str, client_ids: &[String], secret_hash: Option<&str>) -> String {
    let hash = secret_hash.map_or(String::new(), |h| format!(r#","secret_hash":"{h}""#));
    let apps: Vec<String> = client_ids
        .iter()
        .map(|id| {
            format!(
                r#"{{"client_id":"{id}","client_name":"{id}","sign_in_method":"oidc","application_type":"web","grant_types":["client_credentials"],"allowed_scopes":["read"],"token_endpoint_auth_method":"client_secret_basic","enabled":true{hash}}}"#
            )
        })
        .collect();
    format!(
        r#"{{"format":"latchkey-realm/1","realm":{{"name":"{name}","display_name":"{name}","enabled":true}},"provider":{{"grant_types":["client_credentials"],"access_token_lifetime":3600,"default_scopes":[],"signing_alg":"ES256","rate_limits":{{"per_client":0,"per_address":0,"failed_auth":10}},"cors_origins":[]}},"applications":[{}]}}"#,
        apps.join(",")
    )
}

/// `npm ci` in bench/peer when its packages are missing.
fn ensure_peer_installed(root: &Path) -> anyhow::Result<()> {
    let peer = root.join("bench/peer");
    if !peer.join("node_modules").exists() {
        let mut c = Command::new("npm");
        c.args(["ci", "--no-audit", "--no-fund"]).current_dir(&peer);
        crate::status(c).context("installing the peer (npm ci in bench/peer)")?;
    }
    Ok(())
}

/// One HTTP request, for the checks before a load (curl) and for the load itself (wrk's
/// request.lua reads the same fields from the environment).
#[derive(Debug, Clone)]
struct Req {
    method: &'static str,
    path: String,
    auth: String,
    body: String,
}

impl Req {
    fn post(path: &str, auth: &str, body: &str) -> Req {
        Req { method: "POST", path: path.into(), auth: auth.into(), body: body.into() }
    }

    fn get(path: &str) -> Req {
        Req { method: "GET", path: path.into(), auth: String::new(), body: String::new() }
    }

    /// Sends it once; fails unless the status is `status` and the body contains `marker`.
    fn expect(&self, base: &str, status: u16, marker: &str) -> anyhow::Result<(u16, String)> {
        let auth = (!self.auth.is_empty()).then_some(self.auth.as_str());
        let body = (!self.body.is_empty()).then_some((FORM, self.body.as_str()));
        let (got, text) = curl(self.method, &format!("{base}{}", self.path), auth, body)?;
        if got != status || !text.contains(marker) {
            bail!("{} {} answered {got} (expected {status} with {marker}): {text}", self.method, self.path);
        }
        Ok((got, text))
    }

    fn access_token(&self, base: &str) -> anyhow::Result<String> {
        let (_, body) = self.expect(base, 200, "access_token")?;
        Ok(json_string(&body, "access_token").context("no access_token")?.to_owned())
    }
}

/// The input of one wrk run.
#[derive(Debug, Clone)]
struct Load {
    url: String,
    script: &'static str,
    env: Vec<(&'static str, String)>,
    conns: u32,
    threads: u32,
    seconds: u64,
    /// Every request of a list exactly once (list.lua's BENCH_ONCE), one connection per thread.
    once: bool,
}

impl Load {
    fn fixed(base: &str, req: &Req) -> Load {
        let env = vec![
            ("BENCH_METHOD", req.method.to_owned()),
            ("BENCH_AUTH", req.auth.clone()),
            ("BENCH_BODY", req.body.clone()),
        ];
        Load {
            url: format!("{base}{}", req.path),
            script: "request.lua",
            env,
            conns: 1,
            threads: 1,
            seconds: 1,
            once: false,
        }
    }

    /// Requests from a list file: each exactly once (`once`, the run ends when all are
    /// answered), or drawn at random.
    fn list(base: &str, list: &Path, once: bool, conns: u32) -> Load {
        let env = vec![("BENCH_LIST", list.display().to_string()), ("BENCH_ONCE", u8::from(once).to_string())];
        let lines = fs::read_to_string(list).map_or(0, |t| t.lines().count() as u64);
        // A bound, not the duration: the last thread to finish ends wrk.
        let seconds = 120 + lines / 10;
        Load { url: format!("{base}/"), script: "list.lua", env, conns, threads: conns, seconds, once }
    }

    fn with(&self, conns: u32, threads: u32) -> Load {
        let threads = if self.once { conns } else { threads };
        Load { conns, threads, ..self.clone() }
    }

    fn for_seconds(&self, seconds: u64) -> Load {
        Load { seconds, ..self.clone() }
    }

    fn expecting(mut self, status: u16) -> Load {
        self.env.push(("BENCH_EXPECT", status.to_string()));
        self
    }

    fn content_type(mut self, content_type: &str) -> Load {
        self.env.push(("BENCH_CONTENT_TYPE", content_type.to_owned()));
        self
    }
}

/// The line `done` prints (bench/common.lua).
#[derive(Debug)]
struct WrkOut {
    fields: BTreeMap<String, u64>,
    sample: Option<String>,
}

impl WrkOut {
    fn parse(stdout: &str) -> anyhow::Result<WrkOut> {
        let line = stdout
            .lines()
            .find_map(|l| l.strip_prefix("BENCH-RESULT "))
            .with_context(|| format!("wrk printed no BENCH-RESULT line:\n{stdout}"))?;
        let fields = line
            .split_whitespace()
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| Ok((k.to_owned(), v.parse()?)))
            .collect::<anyhow::Result<_>>()?;
        let sample = stdout.lines().find_map(|l| l.strip_prefix("BENCH-SAMPLE ")).map(str::to_owned);
        Ok(WrkOut { fields, sample })
    }

    fn get(&self, key: &str) -> u64 {
        self.fields.get(key).copied().unwrap_or(0)
    }

    fn check(&self) -> anyhow::Result<()> {
        let (requests, errors) = (self.get("requests"), self.get("errors"));
        if errors > 0 {
            bail!(
                "{errors} errors in {requests} requests: {} answers with an unexpected status (first: {}), {} \
                 connect/read/write/timeout errors",
                self.get("unexpected"),
                self.sample.as_deref().unwrap_or("-"),
                self.get("transport")
            );
        }
        if requests == 0 {
            bail!("no request was answered");
        }
        Ok(())
    }

    /// A run: with `once`, its duration is from the first request to the last answer.
    fn run(&self, cpu_us: u64, once: bool) -> Run {
        Run {
            requests: self.get("requests"),
            micros: self.get(if once { "span_us" } else { "duration_us" }).max(1),
            p50_us: self.get("p50_us"),
            p99_us: self.get("p99_us"),
            cpu_us,
        }
    }
}

#[derive(Debug, Clone)]
struct Run {
    requests: u64,
    micros: u64,
    p50_us: u64,
    p99_us: u64,
    /// The server's CPU time (user + system) over the run.
    cpu_us: u64,
}

impl Run {
    fn rps(&self) -> f64 {
        self.requests as f64 * 1e6 / self.micros as f64
    }
}

/// One scenario on one server at one connection count.
#[derive(Debug)]
struct Row {
    scenario: String,
    server: String,
    conns: u32,
    runs: Vec<Run>,
    rss_kib: Option<u64>,
    failure: Option<String>,
    /// The memory run's (seconds, RSS KiB).
    rss_samples: Vec<(u64, u64)>,
}

impl Row {
    fn new(scenario: &str, server: &str, conns: u32) -> Row {
        Row {
            scenario: scenario.into(),
            server: server.into(),
            conns,
            runs: vec![],
            rss_kib: None,
            failure: None,
            rss_samples: vec![],
        }
    }

    fn ok(&self) -> bool {
        self.failure.is_none() && !self.runs.is_empty()
    }

    fn rps(&self) -> f64 {
        median(self.runs.iter().map(Run::rps).collect())
    }

    fn p50_us(&self) -> f64 {
        median(self.runs.iter().map(|r| r.p50_us as f64).collect())
    }

    fn p99_us(&self) -> u64 {
        self.runs.iter().map(|r| r.p99_us).max().unwrap_or(0)
    }

    fn cpu_per_request_us(&self) -> f64 {
        let (cpu, requests) = self.runs.iter().fold((0, 0), |(c, n), r| (c + r.cpu_us, n + r.requests));
        cpu as f64 / requests.max(1) as f64
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => 0.0,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

#[derive(Debug, Default)]
struct Results {
    rows: Vec<Row>,
    notes: Vec<String>,
    sign_costs: Vec<SignCost>,
}

/// One signature's and one verification's cost with the server's crypto backend, on one core.
#[derive(Debug, Clone)]
struct SignCost {
    alg: String,
    sign_us: f64,
    verify_us: f64,
}

/// Measures [`SignCost`]s with `latchkey-oauth2`'s `sign_cost` example (release, the same
/// crypto backend as the server), before any load runs.
fn sign_costs() -> anyhow::Result<Vec<SignCost>> {
    let mut c = crate::cargo();
    c.args(["run", "--quiet", "--release", "-p", "latchkey-oauth2", "--example", "sign_cost"]);
    let out = c.output().context("running the sign_cost example")?;
    if !out.status.success() {
        bail!("the sign_cost example failed:\n{}", String::from_utf8_lossy(&out.stderr));
    }
    let text = String::from_utf8(out.stdout)?;
    let costs: Vec<SignCost> = text
        .lines()
        .filter_map(|l| l.strip_prefix("SIGN-COST "))
        .map(|l| {
            let field = |k: &str| l.split(' ').find_map(|f| f.strip_prefix(k)?.strip_prefix('=')).unwrap_or_default();
            Ok(SignCost {
                alg: field("alg").to_owned(),
                sign_us: field("sign_us").parse().context("sign_us")?,
                verify_us: field("verify_us").parse().context("verify_us")?,
            })
        })
        .collect::<anyhow::Result<_>>()?;
    Ok(costs)
}

impl Results {
    fn record(&mut self, row: Row) {
        println!("{}", self.line(&row));
        self.rows.push(row);
    }

    fn note(&mut self, note: String) {
        println!("note: {note}");
        self.notes.push(note);
    }

    fn has_server(&self, server: &str) -> bool {
        self.rows.iter().any(|r| r.server == server)
    }

    fn find(&self, scenario: &str, server: &str, conns: u32) -> Option<&Row> {
        self.rows.iter().find(|r| r.scenario == scenario && r.server == server && r.conns == conns && r.ok())
    }

    /// Requests/s against the same load elsewhere (the peer, the floor, one realm, SQLite), and
    /// the admin lists' p99 target.
    fn comparisons(&self, row: &Row) -> Vec<String> {
        if !row.ok() || !row.server.starts_with("latchkey") {
            return vec![];
        }
        let mut against: Vec<(&str, &str, &str)> = vec![];
        // The floor answers a token-sized body at once: a reference for the steady loads only.
        if let Some(peer) = compared_with_peer(&row.scenario) {
            against.extend([(peer, "peer-jwt", "peer-jwt"), (peer, "peer-opaque", "peer-opaque")]);
            against.push(("floor", "floor", "floor"));
        }
        if row.scenario == "many-tenants-token" {
            against.push(("token-es256", row.server.as_str(), "one realm"));
        }
        if row.server == "latchkey-postgres" && row.scenario.starts_with("token-") {
            against.push((row.scenario.as_str(), "latchkey-sqlite", "sqlite"));
        }
        let mut out: Vec<String> = against
            .into_iter()
            .filter_map(|(scenario, server, label)| {
                self.find(scenario, server, row.conns).map(|o| format!("{:.2}× {label}", row.rps() / o.rps()))
            })
            .collect();
        // The signature's share: for RS256 the fraction of the limit signing sets with the CPU
        // the server got; for all, the issue's budget of signing plus twice the floor.
        let alg = row.scenario.strip_prefix("token-").filter(|_| row.server.starts_with("latchkey-"));
        if let Some(cost) = alg.and_then(|a| self.sign_costs.iter().find(|c| c.alg.eq_ignore_ascii_case(a))) {
            let cpu = row.cpu_per_request_us();
            out.push(format!("signing {:.0} µs = {:.0} % of CPU/request", cost.sign_us, 100.0 * cost.sign_us / cpu));
            if let Some(floor) = self.find("floor", "floor", row.conns) {
                let budget = cost.sign_us + 2.0 * floor.cpu_per_request_us();
                let verdict = if cpu <= budget { "within" } else { "OVER" };
                out.push(format!("{verdict} the {budget:.0} µs budget (signing + 2× floor CPU)"));
            }
        }
        if row.scenario.starts_with("admin-") {
            let verdict = if row.p99_us() < ADMIN_P99_TARGET_US { "meets" } else { "MISSES" };
            out.push(format!("p99 {verdict} the 50 ms target"));
        }
        out
    }

    fn line(&self, row: &Row) -> String {
        let head = format!("{:<24} {:<17} {:>3} conns", row.scenario, row.server, row.conns);
        if let Some(failure) = &row.failure {
            return format!("{head}  FAILED: {failure}");
        }
        let total: u64 = row.runs.iter().map(|r| r.requests).sum();
        let seconds: u64 = row.runs.iter().map(|r| r.micros).sum();
        format!(
            "{head}  {:>9} req/s  p50 {:>9}  p99 {:>9}  CPU {:>9}/req  RSS {:>9}  ({} requests in {:.1} s)  {}",
            thousands(row.rps()),
            micros(row.p50_us()),
            micros(row.p99_us() as f64),
            micros(row.cpu_per_request_us()),
            row.rss_kib.map_or("-".into(), mib),
            thousands(total as f64),
            seconds as f64 / 1e6,
            self.comparisons(row).join(", ")
        )
    }

    /// `results.json` (every run) and `results.md` (the table for BENCHMARKS.md).
    fn write(&self, out: &Path, machine: &Machine, plan: &str) -> anyhow::Result<()> {
        let json = out.join("results.json");
        fs::write(&json, self.json(machine, plan))?;
        let md = out.join("results.md");
        fs::write(&md, self.markdown(machine, plan))?;
        println!("results: {} and {}", json.display(), md.display());
        Ok(())
    }

    fn json(&self, machine: &Machine, plan: &str) -> String {
        let rows: Vec<String> = self.rows.iter().map(|r| self.row_json(r)).collect();
        let notes: Vec<String> = self.notes.iter().map(|n| json_quote(n)).collect();
        format!(
            "{{\n  \"machine\": {},\n  \"plan\": {},\n  \"notes\": [{}],\n  \"rows\": [\n    {}\n  ]\n}}\n",
            machine.json(),
            json_quote(plan),
            notes.join(", "),
            rows.join(",\n    ")
        )
    }

    fn row_json(&self, r: &Row) -> String {
        let runs: Vec<String> = r
            .runs
            .iter()
            .map(|run| {
                format!(
                    r#"{{"requests":{},"seconds":{:.3},"requests_per_second":{:.1},"p50_us":{},"p99_us":{},"server_cpu_us":{}}}"#,
                    run.requests,
                    run.micros as f64 / 1e6,
                    run.rps(),
                    run.p50_us,
                    run.p99_us,
                    run.cpu_us
                )
            })
            .collect();
        let samples: Vec<String> = r.rss_samples.iter().map(|(s, k)| format!("[{s},{k}]")).collect();
        let compared: Vec<String> = self.comparisons(r).iter().map(|c| json_quote(c)).collect();
        format!(
            r#"{{"scenario":{},"server":{},"connections":{},"ok":{},"failure":{},"requests_per_second":{:.1},"p50_us":{:.0},"p99_us":{},"cpu_us_per_request":{:.1},"rss_kib":{},"compared":[{}],"runs":[{}],"rss_samples_s_kib":[{}]}}"#,
            json_quote(&r.scenario),
            json_quote(&r.server),
            r.conns,
            r.ok(),
            r.failure.as_deref().map_or("null".into(), json_quote),
            r.rps(),
            r.p50_us(),
            r.p99_us(),
            r.cpu_per_request_us(),
            r.rss_kib.map_or("null".into(), |k| k.to_string()),
            compared.join(","),
            runs.join(","),
            samples.join(",")
        )
    }

    fn markdown(&self, machine: &Machine, plan: &str) -> String {
        let mut md = format!("Command: `cargo xtask bench`. {}\n\n{plan}\n\n", machine.describe());
        md.push_str("| scenario | server | conns | requests/s | p50 | p99 | server CPU/request | RSS | compared (requests/s) |\n");
        md.push_str("|---|---|---|---|---|---|---|---|---|\n");
        for r in &self.rows {
            let _ = match &r.failure {
                Some(f) => writeln!(md, "| {} | {} | {} | failed: {} | | | | | |", r.scenario, r.server, r.conns, f),
                None => writeln!(
                    md,
                    "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                    r.scenario,
                    r.server,
                    r.conns,
                    thousands(r.rps()),
                    micros(r.p50_us()),
                    micros(r.p99_us() as f64),
                    micros(r.cpu_per_request_us()),
                    r.rss_kib.map_or("-".into(), mib),
                    self.comparisons(r).join(", ")
                ),
            };
        }
        for note in &self.notes {
            let _ = writeln!(md, "\n{note}");
        }
        md
    }
}

/// What the figures were measured on.
#[derive(Debug)]
struct Machine {
    cores: usize,
    cpu: String,
    memory_gib: f64,
    wrk: String,
    commit: String,
    date: String,
}

impl Machine {
    fn read() -> anyhow::Result<Machine> {
        let cpuinfo = fs::read_to_string("/proc/cpuinfo")?;
        let cpu = cpuinfo
            .lines()
            .find_map(|l| l.strip_prefix("model name"))
            .map_or("unknown", |v| v.trim_start_matches([' ', '\t', ':']).trim());
        let meminfo = fs::read_to_string("/proc/meminfo")?;
        let memory_kib = proc_field(&meminfo, "MemTotal:").unwrap_or(0);
        let wrk = Command::new("wrk").arg("-v").output()?;
        let wrk = String::from_utf8_lossy(&wrk.stdout).lines().next().unwrap_or("").to_owned();
        let wrk = wrk.split(" Copyright").next().unwrap_or("").trim().to_owned();
        let commit = command_line("git", &["rev-parse", "--short", "HEAD"]);
        let dirty = !command_line("git", &["status", "--porcelain", "--untracked-files=no"]).is_empty();
        Ok(Machine {
            cores: std::thread::available_parallelism().map_or(1, usize::from),
            cpu: cpu.to_owned(),
            memory_gib: memory_kib as f64 / 1024.0 / 1024.0,
            wrk,
            commit: if dirty { format!("{commit} with local changes") } else { commit },
            date: command_line("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
        })
    }

    fn describe(&self) -> String {
        format!(
            "Machine: {} cores ({}), {:.0} GiB; {}; Latchkey {}; {}.",
            self.cores, self.cpu, self.memory_gib, self.wrk, self.commit, self.date
        )
    }

    fn json(&self) -> String {
        format!(
            r#"{{"cores":{},"cpu":{},"memory_gib":{:.1},"wrk":{},"commit":{},"date":{}}}"#,
            self.cores,
            json_quote(&self.cpu),
            self.memory_gib,
            json_quote(&self.wrk),
            json_quote(&self.commit),
            json_quote(&self.date)
        )
    }
}

/// A command's first line of output, or empty.
fn command_line(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).lines().next().unwrap_or("").trim().to_owned())
        .unwrap_or_default()
}

/// A server under load: its name in the results, base URL and process id.
#[derive(Debug, Clone)]
struct Target {
    name: String,
    base: String,
    pid: u32,
}

/// A process the bench started: killed and reaped when dropped, however the run ends.
struct Running(Child);

impl Running {
    /// Starts `command` with its output appended to `log`.
    fn spawn(mut command: Command, log: &Path) -> anyhow::Result<Running> {
        let file = fs::File::options().append(true).create(true).open(log)?;
        command.stdout(file.try_clone()?).stderr(file).stdin(Stdio::null());
        Ok(Running(command.spawn().with_context(|| format!("starting {command:?}"))?))
    }

    fn spawn_piped(mut command: Command) -> anyhow::Result<Running> {
        command.stdout(Stdio::piped()).stdin(Stdio::null());
        Ok(Running(command.spawn().with_context(|| format!("starting {command:?}"))?))
    }

    fn pid(&self) -> u32 {
        self.0.id()
    }

    fn exited(&mut self) -> anyhow::Result<bool> {
        Ok(self.0.try_wait()?.is_some())
    }

    fn stdout(&mut self) -> anyhow::Result<String> {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut self.0.stdout.take().context("no stdout pipe")?, &mut text)?;
        Ok(text)
    }

    /// Waits until `url` answers 200, failing early if the process exits.
    fn wait_ready(&mut self, url: &str, log: &Path) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Some(status) = self.0.try_wait()? {
                bail!("it exited ({status}); see {}", log.display());
            }
            if matches!(curl("GET", url, None, None), Ok((200, _))) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        bail!("{url} did not answer 200 within 60 s; see {}", log.display())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// A fresh database for one server: SQLite's is the default file in the server's fresh data
/// dir (nothing to create); PostgreSQL's is created now and dropped (`WITH (FORCE)`) on drop.
struct Database {
    backend: Backend,
    postgres: Option<String>,
}

impl Database {
    fn fresh(backend: Backend, label: &str) -> anyhow::Result<Database> {
        if backend == Backend::Sqlite {
            return Ok(Database { backend, postgres: None });
        }
        let name = format!("latchkey_bench_{}_{label}", std::process::id());
        psql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))?;
        psql(&format!("CREATE DATABASE {name}"))?;
        Ok(Database { backend, postgres: Some(name) })
    }

    fn url(&self) -> Option<String> {
        self.postgres.as_ref().map(|name| format!("postgres://postgres@127.0.0.1:5432/{name}"))
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Some(name) = &self.postgres {
            let _ = psql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

fn psql(sql: &str) -> anyhow::Result<()> {
    let mut c = Command::new("psql");
    c.args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-c", sql]);
    let out = c.output().context("running psql (PostgreSQL's client)")?;
    if !out.status.success() {
        bail!("psql -c {sql:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(())
}

/// `latchkey serve` (and its CLI) on its own data dir and database, with the bench's operator.
struct Latchkey {
    name: String,
    binary: PathBuf,
    data_dir: PathBuf,
    database_url: Option<String>,
    port: u16,
    log: PathBuf,
    process: Option<Running>,
}

impl Latchkey {
    fn new(bench: &Bench, backend: Backend, label: &str, database: &Database) -> anyhow::Result<Latchkey> {
        let data_dir = bench.scratch.path(&format!("{}-{label}", backend.name()));
        fs::create_dir_all(&data_dir)?;
        Ok(Latchkey {
            name: format!("latchkey-{}", database.backend.name()),
            binary: bench.binary.clone(),
            data_dir,
            database_url: database.url(),
            port: free_port()?,
            log: bench.log(&format!("latchkey-{}-{label}", backend.name()))?,
            process: None,
        })
    }

    /// The binary with this server's settings.
    fn command(&self) -> Command {
        let mut c = Command::new(&self.binary);
        c.env("LATCHKEY_BIND", format!("127.0.0.1:{}", self.port))
            .env("LATCHKEY_DATA_DIR", &self.data_dir)
            .env("LATCHKEY_BOOTSTRAP_CLIENT_ID", OPERATOR_ID)
            .env("LATCHKEY_BOOTSTRAP_CLIENT_SECRET", OPERATOR_SECRET)
            .env("LATCHKEY_BOOTSTRAP_ADMIN_USERNAME", ADMIN_USERNAME)
            .env("LATCHKEY_BOOTSTRAP_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("LATCHKEY_MASTER_KEY", MASTER_KEY)
            .env("RUST_LOG", "warn");
        for unset in ["LATCHKEY_PUBLIC_URL", "LATCHKEY_DATABASE_URL"] {
            c.env_remove(unset);
        }
        if let Some(url) = &self.database_url {
            c.env("LATCHKEY_DATABASE_URL", url);
        }
        c
    }

    /// Runs `latchkey ARGS` to completion; returns its standard output.
    fn cli(&self, args: &[&str]) -> anyhow::Result<String> {
        let out = self.command().args(args).output().with_context(|| format!("running latchkey {args:?}"))?;
        if !out.status.success() {
            bail!("latchkey {args:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
        }
        Ok(String::from_utf8(out.stdout)?)
    }

    /// Starts the server, stopping the one running first (a restart forgets verified secrets).
    fn start(&mut self) -> anyhow::Result<()> {
        self.process = None;
        let mut command = self.command();
        command.arg("serve");
        let mut process = Running::spawn(command, &self.log)?;
        process.wait_ready(&format!("{}/health/ready", self.base()), &self.log).context("latchkey did not start")?;
        self.process = Some(process);
        Ok(())
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn target(&self) -> Target {
        Target { name: self.name.clone(), base: self.base(), pid: self.process.as_ref().map_or(0, Running::pid) }
    }
}

/// The admin API, as the root realm's operator client.
struct Admin {
    base: String,
    token: String,
}

impl Admin {
    fn sign_in(base: &str) -> anyhow::Result<Admin> {
        let auth = basic(OPERATOR_ID, OPERATOR_SECRET);
        let req = Req::post(&realm_path("root", "access_token"), &auth, "grant_type=client_credentials&scope=admin");
        Ok(Admin { base: base.to_owned(), token: req.access_token(base).context("the operator's admin token")? })
    }

    fn call(&self, method: &str, path: &str, body: Option<&str>) -> anyhow::Result<String> {
        let url = format!("{}/admin/v1{path}", self.base);
        let (status, text) = curl(method, &url, Some(&format!("Bearer {}", self.token)), body.map(|b| (JSON, b)))?;
        if !(200..300).contains(&status) {
            bail!("{method} {path} answered {status}: {text}");
        }
        Ok(text)
    }
}

/// One HTTP call by curl, for setup and checks (the load is wrk's): status and body.
fn curl(method: &str, url: &str, auth: Option<&str>, body: Option<(&str, &str)>) -> anyhow::Result<(u16, String)> {
    let mut c = Command::new("curl");
    c.args(["-s", "--max-time", "30", "-X", method, "-w", "\n%{http_code}"]);
    if let Some(auth) = auth {
        c.arg("-H").arg(format!("Authorization: {auth}"));
    }
    if let Some((content_type, body)) = body {
        c.arg("-H").arg(format!("Content-Type: {content_type}")).arg("--data-binary").arg(body);
    }
    let out = c.arg(url).output().context("running curl")?;
    let text = String::from_utf8_lossy(&out.stdout);
    let (body, status) = text.rsplit_once('\n').unwrap_or(("", &text));
    Ok((status.trim().parse().unwrap_or(0), body.to_owned()))
}

/// The string value of `"key"` in a JSON text (tokens, PHC strings: no escapes in them).
fn json_string<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let after = &text[text.find(&format!("\"{key}\""))? + key.len() + 2..];
    let value = after.trim_start().strip_prefix(':')?.trim_start().strip_prefix('"')?;
    value.split('"').next()
}

fn json_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out + "\""
}

/// `Basic base64(id:secret)` (ids and secrets here need no form-encoding).
fn basic(id: &str, secret: &str) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = format!("{id}:{secret}").into_bytes();
    let mut out = String::from("Basic ");
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            let c = if i <= chunk.len() { ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char } else { '=' };
            out.push(c);
        }
    }
    out
}

/// utime + stime of a process, in microseconds.
fn cpu_micros(pid: u32, clock_ticks: u64) -> anyhow::Result<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).with_context(|| format!("the process {pid} is gone"))?;
    // Fields after the command name (which may hold spaces), from field 3 on: utime is 14, stime 15.
    let fields: Vec<&str> = stat.rsplit_once(')').context("/proc/PID/stat")?.1.split_whitespace().collect();
    let ticks: u64 = fields[11].parse::<u64>()? + fields[12].parse::<u64>()?;
    Ok(ticks * 1_000_000 / clock_ticks)
}

fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status"))?;
    proc_field(&status, "VmRSS:").context("no VmRSS")
}

/// A `Name:   123 kB` line's number.
fn proc_field(text: &str, name: &str) -> Option<u64> {
    text.lines().find_map(|l| l.strip_prefix(name))?.split_whitespace().next()?.parse().ok()
}

fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn write_lines(path: &Path, lines: impl Iterator<Item = String>) -> anyhow::Result<()> {
    let text: String = lines.map(|l| l + "\n").collect();
    fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

fn unique() -> u128 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_nanos())
}

/// The bench's scratch directory (data dirs, lists, realm files), removed however the run ends.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> anyhow::Result<Scratch> {
        let dir = std::env::temp_dir().join(format!("latchkey-bench-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir)?;
        Ok(Scratch(dir))
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// xorshift64*: which client of each realm asks; no dependency for a few random numbers.
struct Rng(u64);

impl Rng {
    fn seeded() -> Rng {
        Rng((unique() as u64 ^ u64::from(std::process::id())) | 1)
    }

    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n
    }
}

fn thousands(n: f64) -> String {
    let digits = format!("{:.0}", n);
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn micros(us: f64) -> String {
    match us {
        us if us >= 1_000_000.0 => format!("{:.2} s", us / 1e6),
        us if us >= 1_000.0 => format!("{:.2} ms", us / 1e3),
        us => format!("{us:.0} µs"),
    }
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_is_base64_of_id_and_secret() {
        // printf 'peer-client:peer-secret-0123456789abcdef' | base64 (the peer's own header)
        assert_eq!(basic(PEER_ID, PEER_SECRET), "Basic cGVlci1jbGllbnQ6cGVlci1zZWNyZXQtMDEyMzQ1Njc4OWFiY2RlZg==");
        assert_eq!(basic("a", "b"), "Basic YTpi");
        assert_eq!(basic("ab", "c"), "Basic YWI6Yw==");
    }

    #[test]
    fn only_selects_by_name_or_prefix() {
        assert!(selects("token", "token-es256") && selects("token-es256", "token-es256"));
        assert!(!selects("tok", "token-es256") && !selects("jwks", "discovery"));
    }

    #[test]
    fn json_string_reads_compact_and_pretty_json() {
        assert_eq!(json_string(r#"{"access_token":"abc","x":1}"#, "access_token"), Some("abc"));
        assert_eq!(
            json_string("{\n  \"secret_hash\": \"$argon2id$v=19$x\"\n}", "secret_hash"),
            Some("$argon2id$v=19$x")
        );
        assert_eq!(json_string(r#"{"a":1}"#, "secret_hash"), None);
    }

    #[test]
    fn wrk_result_line_parses_and_errors_fail() {
        let out = WrkOut::parse(
            "Running 3s test\nBENCH-RESULT requests=10 duration_us=2000000 span_us=0 errors=1 unexpected=1 transport=0 \
             p50_us=900 p99_us=2000\nBENCH-SAMPLE 401 {\"error\":\"invalid_client\"}\n",
        )
        .unwrap();
        assert_eq!(out.run(5000, false).rps(), 5.0);
        let err = out.check().unwrap_err().to_string();
        assert!(err.contains("401 {\"error\":\"invalid_client\"}"), "{err}");
    }
}
