//! Persistence for Latchkey on sea-orm: SQLite (embedded default) and PostgreSQL.
//!
//! The only crate that knows sea-orm. Its entities are private; every method takes and returns
//! domain types. Every method that touches tenant data takes the realm's [`RealmId`], and every
//! query filters on it.

mod applications;
mod audit;
mod entities;
mod hot;
mod keys;
mod realms;
mod revocations;
mod sessions;
mod transfer;
mod users;

pub use applications::NewApplication;
pub use audit::{AuditEvent, AuditFilter, NewAuditEvent};
pub use hot::{CacheStats, POLL_INTERVAL, STALE_AFTER};
pub use sessions::AdminSession;
pub use transfer::{ImportApplication, ImportUser, RealmImport};

use latchkey_core::{GrantType, ScopeSet};
use migrations::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbBackend, DbErr, SqlErr};
use std::time::Duration;

/// Storage failures. `Database` is unexpected and ends as an opaque 500 upstream.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{field} is already taken")]
    Conflict { field: &'static str },
    #[error("database error: {0}")]
    Database(#[from] DbErr),
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
}

/// How long a statement waits for a connection by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

impl StoreError {
    /// The database could not be reached (down, restarting, or no connection free within the
    /// timeout) rather than refusing the statement: the caller may retry later.
    pub fn is_unavailable(&self) -> bool {
        use sea_orm::RuntimeErr;
        use sea_orm::sqlx::Error as Sqlx;
        let StoreError::Database(e) = self else { return false };
        match e {
            DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
            DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => match e.as_ref() {
                Sqlx::Io(_) | Sqlx::PoolTimedOut | Sqlx::PoolClosed | Sqlx::WorkerCrashed => true,
                // PostgreSQL's classes 08 (connection exception) and 57 (operator intervention:
                // a shutdown or restart terminating the session).
                Sqlx::Database(d) => d.code().is_some_and(|c| c.starts_with("08") || c.starts_with("57")),
                _ => false,
            },
            _ => false,
        }
    }

    /// The database cannot store anything now: its disk is full, or it is read-only (a
    /// read-only file or file system, a standby). Reads still work; nothing was written.
    pub fn is_unwritable(&self) -> bool {
        use sea_orm::RuntimeErr;
        use sea_orm::sqlx::Error as Sqlx;
        let StoreError::Database(DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e))) = self
        else {
            return false;
        };
        let Sqlx::Database(d) = e.as_ref() else { return false };
        let Some(code) = d.code() else { return false };
        if d.try_downcast_ref::<sea_orm::sqlx::sqlite::SqliteError>().is_some() {
            // SQLite's primary codes (the low byte of an extended code): FULL, READONLY, IOERR.
            code.parse::<u32>().is_ok_and(|n| matches!(n & 0xff, 13 | 8 | 10))
        } else {
            // PostgreSQL's SQLSTATE: disk_full, read_only_sql_transaction.
            code == "53100" || code == "25006"
        }
    }

    /// The database refused a row (a unique or foreign key constraint), rather than failing.
    pub fn is_constraint_violation(&self) -> bool {
        matches!(self, StoreError::Conflict { .. })
            || matches!(self, StoreError::Database(e) if matches!(
                e.sql_err(),
                Some(SqlErr::UniqueConstraintViolation(_) | SqlErr::ForeignKeyConstraintViolation(_))
            ))
    }

    /// Maps a unique-constraint violation to a conflict on `field`.
    fn conflict_on(field: &'static str) -> impl FnOnce(DbErr) -> StoreError {
        move |e| match e.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => StoreError::Conflict { field },
            _ => StoreError::Database(e),
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Whether a row may have `key` (a name, id or search term from a request): PostgreSQL text
/// cannot hold NUL, so a key with one names nothing and must not reach the database, where it
/// would be an error rather than no match.
fn can_exist(key: &str) -> bool {
    !key.contains('\0')
}

/// A case-insensitive substring match of `search` on any of `columns` (LIKE, with the
/// pattern's own `%`, `_` and `\\` escaped), the same on SQLite and PostgreSQL.
fn contains_any<C: sea_orm::ColumnTrait>(columns: &[C], search: &str) -> sea_orm::Condition {
    use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
    let escaped: String = search
        .to_lowercase()
        .chars()
        .flat_map(|c| match c {
            '%' | '_' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    if !can_exist(search) {
        return sea_orm::Condition::all().add(Expr::val(1).eq(0));
    }
    let pattern = format!("%{escaped}%");
    columns.iter().fold(sea_orm::Condition::any(), |cond, col| {
        cond.add(Expr::expr(Func::lower(Expr::col(*col))).like(LikeExpr::new(pattern.clone()).escape('\\')))
    })
}

/// A page of results and the total across pages.
#[derive(Debug, Clone)]
pub struct Paged<T> {
    pub items: Vec<T>,
    pub total: u64,
}

/// The handle to Latchkey's database. Cheap to clone (a connection pool).
#[derive(Clone)]
pub struct Store {
    db: DatabaseConnection,
    /// The token path's cache (see [`hot`]); shared by the clones of this store.
    hot: std::sync::Arc<hot::Hot>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("backend", &self.backend_name()).finish()
    }
}

/// How long a SQLite connection opened read-only (the file was, then) serves reads before it
/// is replaced by one that may write again.
const READ_ONLY_RETRY: Duration = Duration::from_secs(1);

/// Run on a pooled SQLite connection before each use; fails on one left inside a transaction,
/// and answers whether it is marked `query_only`.
const ACQUIRE_CHECK: &str = "BEGIN; ROLLBACK; PRAGMA query_only";

/// A PostgreSQL connection idle this long is pinged before it is handed out.
const PING_IF_IDLE_FOR: Duration = Duration::from_secs(1);

impl Store {
    /// Connects to `url` (`sqlite://…` or `postgres://…`) with the default timeout. Never logs
    /// the URL: it may hold a password.
    pub async fn connect(url: &str) -> Result<Store> {
        Self::connect_with(url, DEFAULT_TIMEOUT).await
    }

    /// Connects to `url`; a statement waits at most `timeout` for a connection (and a new
    /// connection at most `timeout` to open), then fails as [`StoreError::is_unavailable`].
    pub async fn connect_with(url: &str, timeout: Duration) -> Result<Store> {
        let mut opts = ConnectOptions::new(url.to_owned());
        opts.sqlx_logging(false).connect_timeout(timeout).acquire_timeout(timeout);
        if url.starts_with("sqlite:") {
            // WAL lets readers run beside the one writer; the busy timeout queues writers
            // instead of failing them with "database is locked".
            // After a failed write (disk full, file read-only) SQLite can leave a connection
            // inside a transaction that will never commit; one opened while the file was
            // read-only stays read-only for good. Neither may be handed out for writes: a
            // connection is checked with BEGIN/ROLLBACK before each use and dropped if that
            // fails, and one that could not take the write lock when it opened is marked
            // `query_only`: it serves reads, and is replaced once it is older than
            // READ_ONLY_RETRY, so that writes work again soon after the file does.
            // Connections are not replaced by age (sqlx's default is 30 minutes): a SQLite
            // connection holds no server's resources, and each replacement fills a new page
            // cache and statement cache before the allocator reuses the old ones' memory (the
            // 30-minute soak's resident memory rose by 6 MiB at the 30-minute mark). Idle ones
            // are still closed after sqlx's 10 minutes.
            opts.map_sqlx_sqlite_pool_opts(|pool| {
                pool.max_lifetime(None).after_connect(|conn, _| {
                    Box::pin(async move {
                        use sea_orm::sqlx::Executor;
                        if conn.execute("BEGIN IMMEDIATE").await.is_ok() {
                            conn.execute("ROLLBACK").await?;
                        } else {
                            conn.execute("PRAGMA query_only = ON").await?;
                        }
                        Ok(())
                    })
                })
            });
            // One prepared query, so one round trip to the connection's thread per acquire
            // (three round trips, two of them prepared anew each time, cost the admin lists
            // about a quarter of their throughput; BENCHMARKS.md).
            opts.map_sqlx_sqlite_before_acquire(|conn, meta| {
                Box::pin(async move {
                    let checked: Result<(bool,), _> =
                        sea_orm::sqlx::query_as(ACQUIRE_CHECK).fetch_one(&mut *conn).await;
                    Ok(match checked {
                        Ok((query_only,)) => !(query_only && meta.age > READ_ONLY_RETRY),
                        Err(_) => false,
                    })
                })
            });
            opts.max_connections(8).map_sqlx_sqlite_opts(|o| {
                o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                    .busy_timeout(Duration::from_secs(10))
                    .foreign_keys(true)
            });
        } else {
            // sqlx pings a connection on every acquire by default: a second round trip for
            // every statement (half the admin lists' socket writes in a profile). A connection
            // used within the last second is handed out as it is; one idle longer is pinged
            // first. A connection that did die (a restarted server) fails the one statement
            // that finds out, and sqlx closes it rather than returning it to the pool.
            opts.max_connections(16).test_before_acquire_if_idle_for(PING_IF_IDLE_FOR);
        }
        Ok(Store { db: Database::connect(opts).await?, hot: Default::default() })
    }

    pub fn backend_name(&self) -> &'static str {
        match self.db.get_database_backend() {
            DbBackend::Sqlite => "sqlite",
            DbBackend::Postgres => "postgres",
            _ => "other",
        }
    }

    /// Applies pending migrations.
    pub async fn migrate(&self) -> Result<()> {
        Migrator::up(&self.db, None).await?;
        Ok(())
    }

    /// Rolls every migration back (tests of reversibility only).
    pub async fn migrate_down_all(&self) -> Result<()> {
        Migrator::down(&self.db, None).await?;
        Ok(())
    }

    /// The names of migrations not applied yet.
    pub async fn pending_migrations(&self) -> Result<Vec<String>> {
        Ok(Migrator::get_pending_migrations(&self.db).await?.iter().map(|m| m.name().to_owned()).collect())
    }

    /// Ready means the database answers and every migration is applied.
    pub async fn ready(&self) -> Result<bool> {
        self.db.ping().await?;
        Ok(self.pending_migrations().await?.is_empty())
    }

    /// Closes the pool: waits for connections in use to come back, then closes them all.
    pub async fn close(self) -> Result<()> {
        self.db.close().await?;
        Ok(())
    }

    /// How the connection pool is used right now (for the metrics). Reads counters only.
    pub fn pool_stats(&self) -> PoolStats {
        fn stats<DB: sea_orm::sqlx::Database>(pool: &sea_orm::sqlx::Pool<DB>) -> PoolStats {
            let open = pool.size();
            let idle = u32::try_from(pool.num_idle()).unwrap_or(u32::MAX).min(open);
            PoolStats { open, idle, max: pool.options().get_max_connections() }
        }
        match self.db.get_database_backend() {
            DbBackend::Sqlite => stats(self.db.get_sqlite_connection_pool()),
            DbBackend::Postgres => stats(self.db.get_postgres_connection_pool()),
            _ => PoolStats::default(),
        }
    }
}

/// A snapshot of the database connection pool.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Connections open, idle or in use.
    pub open: u32,
    /// Open connections waiting in the pool.
    pub idle: u32,
    /// The most the pool opens.
    pub max: u32,
}

impl PoolStats {
    /// Open connections lent out to a query or transaction.
    pub fn in_use(&self) -> u32 {
        self.open - self.idle
    }
}

// Lists are stored as space-separated text: neither scopes nor grant type names contain spaces.

fn scopes_to_text(s: &ScopeSet) -> String {
    s.to_string()
}

fn scopes_from_text(s: &str) -> Result<ScopeSet> {
    if s.is_empty() {
        return Ok(ScopeSet::new());
    }
    ScopeSet::parse_delimited(s).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn grants_to_text(g: &[GrantType]) -> String {
    g.iter().map(|g| g.as_str()).collect::<Vec<_>>().join(" ")
}

fn grants_from_text(s: &str) -> Result<Vec<GrantType>> {
    s.split_whitespace()
        .map(|g| g.parse().map_err(|e: latchkey_core::UnknownGrantType| StoreError::Corrupt(e.to_string())))
        .collect()
}

fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}
