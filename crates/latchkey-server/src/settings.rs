//! Settings: every one has an environment variable and a command-line flag; `latchkey --help`
//! lists them with their defaults.

use crate::telemetry::LogFormat;
use anyhow::{Context, bail};
use clap::Args;
use latchkey_oauth2::MasterKey;
use secrecy::{ExposeSecret, SecretString};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// The settings as given on the command line or in the environment.
#[derive(Debug, Clone, Args)]
pub struct SettingsArgs {
    /// Address and port to listen on (port 0 picks a free port).
    #[arg(long, env = "LATCHKEY_BIND", default_value = "127.0.0.1:8080", global = true)]
    pub bind: String,

    /// Base URL clients use to reach Latchkey; every issuer is `{public_url}/oauth2/realms/{realm}`.
    /// [default: http:// + the bound address]
    #[arg(long, env = "LATCHKEY_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,

    /// Directory for the embedded database and the generated master key.
    #[arg(long, env = "LATCHKEY_DATA_DIR", default_value = "./data", global = true)]
    pub data_dir: PathBuf,

    /// Database URL: `sqlite://path?mode=rwc` or `postgres://user:pass@host/db`.
    /// [default: sqlite file `latchkey.db` in the data dir]
    #[arg(long, env = "LATCHKEY_DATABASE_URL", hide_env_values = true, global = true)]
    pub database_url: Option<String>,

    /// Base64 of 32 random bytes; encrypts realm signing keys at rest. [default: generated once
    /// into `{data_dir}/master.key` (mode 0600), with a warning]
    #[arg(long, env = "LATCHKEY_MASTER_KEY", hide_env_values = true, global = true)]
    pub master_key: Option<String>,

    /// Client id of the operator's automation client in the `root` realm (client_credentials,
    /// scope `admin`). Set with LATCHKEY_BOOTSTRAP_CLIENT_SECRET.
    #[arg(long, env = "LATCHKEY_BOOTSTRAP_CLIENT_ID", global = true)]
    pub bootstrap_client_id: Option<String>,

    /// Secret of the operator's automation client. [default: generated on the first start and
    /// printed once]
    #[arg(long, env = "LATCHKEY_BOOTSTRAP_CLIENT_SECRET", hide_env_values = true, global = true)]
    pub bootstrap_client_secret: Option<String>,

    /// Username of an administrator identity in the `root` realm. Set with
    /// LATCHKEY_BOOTSTRAP_ADMIN_PASSWORD.
    #[arg(long, env = "LATCHKEY_BOOTSTRAP_ADMIN_USERNAME", global = true)]
    pub bootstrap_admin_username: Option<String>,

    /// Password of the bootstrap administrator. [default: with neither admin variable set, the
    /// first start creates the administrator `admin` with a generated password, printed once]
    #[arg(long, env = "LATCHKEY_BOOTSTRAP_ADMIN_PASSWORD", hide_env_values = true, global = true)]
    pub bootstrap_admin_password: Option<String>,

    /// Directory of the built console (`cargo xtask console` writes `frontend/dist`), served at
    /// `/console`.
    #[arg(long, env = "LATCHKEY_CONSOLE_DIR", default_value = "./frontend/dist", global = true)]
    pub console_dir: PathBuf,

    /// Seconds of inactivity after which a console session ends.
    #[arg(long, env = "LATCHKEY_SESSION_IDLE_TIMEOUT", default_value_t = 1800, global = true)]
    pub session_idle_timeout: u32,

    /// Seconds after sign-in at which a console session ends, however active.
    #[arg(long, env = "LATCHKEY_SESSION_LIFETIME", default_value_t = 28800, global = true)]
    pub session_lifetime: u32,

    /// Log lines as `text` (for people) or `json` (one object per line, for log collectors).
    /// Filter with RUST_LOG.
    #[arg(long, env = "LATCHKEY_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,

    /// Seconds a request waits for a database connection (and a new connection to open) before
    /// it fails with 503: while the database is down or restarting, requests fail this fast.
    #[arg(long, env = "LATCHKEY_DATABASE_TIMEOUT", default_value_t = 5,
          value_parser = clap::value_parser!(u16).range(1..), global = true)]
    pub database_timeout: u16,

    /// Seconds a graceful shutdown (SIGTERM or SIGINT) waits for requests in flight.
    #[arg(long, env = "LATCHKEY_SHUTDOWN_TIMEOUT", default_value_t = 10, global = true)]
    pub shutdown_timeout: u16,

    /// A bearer token `/metrics` asks for. [default: unset: `/metrics` is open, like the health
    /// probes; keep it on the internal network]
    #[arg(long, env = "LATCHKEY_METRICS_TOKEN", hide_env_values = true, global = true)]
    pub metrics_token: Option<String>,

    /// Days the audit log keeps an event; older events are pruned (at start, then hourly).
    #[arg(long, env = "LATCHKEY_AUDIT_RETENTION_DAYS", default_value_t = 90,
          value_parser = clap::value_parser!(u32).range(1..), global = true)]
    pub audit_retention_days: u32,
}

/// The operator client or admin identity bootstrap asks for.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub id: String,
    pub secret: SecretString,
}

/// Resolved settings, passed to [`crate::Application::build`].
#[derive(Debug, Clone)]
pub struct Settings {
    pub bind: SocketAddr,
    /// `None`: derived from the bound address once listening.
    pub public_url: Option<String>,
    pub data_dir: PathBuf,
    pub database_url: SecretString,
    /// How long a request waits for a database connection before failing with 503.
    pub database_timeout: std::time::Duration,
    pub master_key: MasterKey,
    pub bootstrap_client: Option<Credentials>,
    pub bootstrap_admin: Option<Credentials>,
    pub console_dir: PathBuf,
    pub sessions: SessionSettings,
    /// How long a graceful shutdown waits for requests in flight.
    pub shutdown_timeout: std::time::Duration,
    /// With it, `/metrics` asks for this bearer token.
    pub metrics_token: Option<SecretString>,
    pub audit: AuditSettings,
}

/// How long the audit log keeps events, how often it prunes older ones, how long an event
/// waits to be written with others at most, and how long issued tokens are counted into one
/// usage record at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditSettings {
    pub retention_days: u32,
    pub prune_every: std::time::Duration,
    pub batch_every: std::time::Duration,
    pub usage_every: std::time::Duration,
}

impl Default for AuditSettings {
    fn default() -> Self {
        AuditSettings {
            retention_days: 90,
            prune_every: std::time::Duration::from_secs(3600),
            batch_every: std::time::Duration::from_millis(250),
            usage_every: std::time::Duration::from_secs(60),
        }
    }
}

/// How long console sessions live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionSettings {
    /// Seconds of inactivity that end a session.
    pub idle_timeout: i64,
    /// Seconds from sign-in that end a session.
    pub lifetime: i64,
}

impl Default for SessionSettings {
    fn default() -> Self {
        SessionSettings { idle_timeout: 1800, lifetime: 28800 }
    }
}

fn pair(what: &str, id: Option<String>, secret: Option<String>) -> anyhow::Result<Option<Credentials>> {
    match (id, secret) {
        (Some(id), Some(secret)) => Ok(Some(Credentials { id, secret: SecretString::from(secret) })),
        (None, None) => Ok(None),
        _ => bail!("set both or neither of the bootstrap {what} variables"),
    }
}

impl SettingsArgs {
    /// Resolves defaults, reading or creating the master key. Fails fast with context.
    pub fn resolve(self) -> anyhow::Result<Settings> {
        let bind: SocketAddr =
            self.bind.parse().with_context(|| format!("LATCHKEY_BIND `{}` is not an address:port", self.bind))?;
        let public_url = match self.public_url {
            Some(u) => {
                let parsed = url::Url::parse(&u).context("LATCHKEY_PUBLIC_URL is not a URL")?;
                if !matches!(parsed.scheme(), "http" | "https")
                    || parsed.query().is_some()
                    || parsed.fragment().is_some()
                {
                    bail!("LATCHKEY_PUBLIC_URL must be an http(s) URL without query or fragment");
                }
                Some(u.trim_end_matches('/').to_owned())
            }
            None => None,
        };
        let database_url = match self.database_url {
            Some(u) => u,
            None => {
                std::fs::create_dir_all(&self.data_dir)
                    .with_context(|| format!("creating data dir {}", self.data_dir.display()))?;
                format!("sqlite://{}?mode=rwc", self.data_dir.join("latchkey.db").display())
            }
        };
        if self.session_idle_timeout == 0 || self.session_lifetime < self.session_idle_timeout {
            bail!("LATCHKEY_SESSION_IDLE_TIMEOUT must be at least 1 and at most LATCHKEY_SESSION_LIFETIME");
        }
        let master_key = match self.master_key {
            Some(k) => MasterKey::from_base64(&k).context("LATCHKEY_MASTER_KEY")?,
            None => load_or_create_master_key(&self.data_dir)?,
        };
        Ok(Settings {
            bind,
            public_url,
            data_dir: self.data_dir,
            database_url: SecretString::from(database_url),
            database_timeout: std::time::Duration::from_secs(self.database_timeout.into()),
            master_key,
            bootstrap_client: pair("client", self.bootstrap_client_id, self.bootstrap_client_secret)?,
            bootstrap_admin: pair("admin", self.bootstrap_admin_username, self.bootstrap_admin_password)?,
            console_dir: self.console_dir,
            sessions: SessionSettings {
                idle_timeout: self.session_idle_timeout.into(),
                lifetime: self.session_lifetime.into(),
            },
            shutdown_timeout: std::time::Duration::from_secs(self.shutdown_timeout.into()),
            metrics_token: self.metrics_token.filter(|t| !t.is_empty()).map(SecretString::from),
            audit: AuditSettings { retention_days: self.audit_retention_days, ..AuditSettings::default() },
        })
    }
}

/// Reads `{data_dir}/master.key`, or writes a new one (mode 0600) and warns.
fn load_or_create_master_key(data_dir: &Path) -> anyhow::Result<MasterKey> {
    let path = data_dir.join("master.key");
    if path.exists() {
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        return MasterKey::from_base64(&text).with_context(|| format!("{} is not a valid master key", path.display()));
    }
    std::fs::create_dir_all(data_dir).with_context(|| format!("creating data dir {}", data_dir.display()))?;
    let key = MasterKey::generate();
    write_private(&path, key.to_base64().as_bytes()).with_context(|| format!("writing {}", path.display()))?;
    tracing::warn!(
        path = %path.display(),
        "LATCHKEY_MASTER_KEY is not set: generated a master key into the data dir. Back it up: \
         without it the realms' signing keys cannot be decrypted. In production set LATCHKEY_MASTER_KEY."
    );
    Ok(key)
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}

impl Settings {
    pub fn database_url(&self) -> &str {
        self.database_url.expose_secret()
    }
}
