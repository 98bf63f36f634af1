//! Building and running the server: connect, migrate, bootstrap, bind, serve.

use crate::routes;
use crate::settings::Settings;
use crate::state::AppState;
use crate::telemetry::RootSpan;
use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use latchkey_storage::Store;
use std::future::Future;
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};
use tracing_actix_web::TracingLogger;

/// A built server, listening, not yet serving until awaited.
pub struct Application {
    port: u16,
    public_url: String,
    server: Server,
    store: Store,
    /// Waits for a signal to drain the server; ends with the server.
    drain: tokio::task::JoinHandle<()>,
    /// Set when a graceful shutdown ran out of time and cut requests off.
    cut_off: Arc<AtomicBool>,
    auditor: crate::audit::Auditor,
    /// Polls the change log for the token path's cache.
    follower: tokio::task::JoinHandle<()>,
}

impl Application {
    /// Connects to the database, applies migrations, runs bootstrap and binds the listener.
    /// Binding its own listener lets a test run many servers on port 0 in one process.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let store = Store::connect_with(settings.database_url(), settings.database_timeout)
            .await
            .context("connecting to the database")?;
        store.migrate().await.context("applying migrations")?;
        let listener = TcpListener::bind(settings.bind).with_context(|| format!("binding {}", settings.bind))?;
        let address = listener.local_addr()?;
        let public_url = settings.public_url.clone().unwrap_or_else(|| format!("http://{address}"));
        let backend = store.backend_name();
        let auditor = crate::audit::Auditor::start(store.clone(), settings.audit);
        let state = web::Data::new(
            AppState::new(
                store,
                settings.master_key.clone(),
                public_url.clone(),
                settings.sessions,
                settings.console_dir.clone(),
                auditor.clone(),
            )
            .with_metrics_token(settings.metrics_token.clone()),
        );
        crate::bootstrap::run(&state, &settings).await.context("bootstrap")?;
        state.store.follow_changes().await.context("reading the change log")?;
        let follower = tokio::spawn(follow_changes(state.store.clone()));

        // Installed now, so a signal that comes before the server runs still stops it gracefully.
        let signal = shutdown_signal()?;
        watch_file_size_limit()?;
        let listening = listener.try_clone()?;
        let connections = Arc::new(AtomicUsize::new(0));
        let server = HttpServer::new({
            let state = state.clone();
            // The last `wrap` runs first: the root span opens before the metrics start timing.
            move || {
                App::new()
                    .wrap(from_fn(crate::metrics::observe))
                    .wrap(TracingLogger::<RootSpan>::new())
                    .app_data(state.clone())
                    .configure(routes::configure)
            }
        })
        .on_connect({
            let connections = connections.clone();
            move |_, extensions| {
                extensions.insert(OpenConnection::new(&connections));
            }
        })
        .listen(listener)?
        .disable_signals()
        .shutdown_timeout(settings.shutdown_timeout.as_secs())
        .run();
        tracing::info!(%address, %public_url, backend, "Latchkey listening on http://{address}");
        let cut_off = Arc::new(AtomicBool::new(false));
        let drain = Drain {
            handle: server.handle(),
            listening,
            state: state.clone(),
            connections,
            timeout: settings.shutdown_timeout,
            cut_off: cut_off.clone(),
        };
        let drain = tokio::spawn(async move { drain.on(signal).await });
        let store = state.store.clone();
        Ok(Application { port: address.port(), public_url, server, auditor, store, drain, cut_off, follower })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// A handle that stops the server gracefully.
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until stopped (SIGTERM or SIGINT: see [`Drain`]; or the handle), then closes the
    /// database pool.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.server.await;
        // Stopped by the handle, it no longer waits for a signal (nor holds the listening socket).
        self.drain.abort();
        self.follower.abort();
        // The server has stopped: write the audit events still queued.
        self.auditor.flush().await;
        if let Err(e) = self.store.close().await {
            tracing::warn!(error = %e, "closing the database pool failed");
        }
        if self.cut_off.load(Relaxed) {
            tracing::warn!("Latchkey stopped after the shutdown timeout: requests still in flight were cut off");
        } else if result.is_ok() {
            tracing::info!("Latchkey shut down cleanly: requests in flight finished, database pool closed");
        }
        result
    }
}

/// Resolves at the first SIGTERM or SIGINT, naming it. The handlers are installed at once.
fn shutdown_signal() -> std::io::Result<impl Future<Output = &'static str> + Send + 'static> {
    #[cfg(unix)]
    let signal = {
        use tokio::signal::unix::{SignalKind, signal};
        let (mut term, mut int) = (signal(SignalKind::terminate())?, signal(SignalKind::interrupt())?);
        async move {
            tokio::select! {
                _ = term.recv() => "SIGTERM",
                _ = int.recv() => "SIGINT",
            }
        }
    };
    #[cfg(not(unix))]
    let signal = async {
        let _ = tokio::signal::ctrl_c().await;
        "Ctrl-C"
    };
    Ok(signal)
}

/// Handles SIGXFSZ, whose default is to kill the process: with a file-size limit (`ulimit -f`)
/// reached, a database write then fails like a full disk (a 503, nothing half-written) and the
/// server goes on answering reads. Each time, an error in the log says why.
fn watch_file_size_limit() -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        const SIGXFSZ: i32 = 25;
        let mut limit = signal(SignalKind::from_raw(SIGXFSZ))?;
        tokio::spawn(async move {
            while limit.recv().await.is_some() {
                tracing::error!("a file reached the process's file-size limit (SIGXFSZ): the write failed");
            }
        });
    }
    Ok(())
}

/// How long no request may be in flight before a draining server closes its idle connections.
const QUIET: Duration = Duration::from_secs(1);

/// Counts a connection while it is open (kept in the connection's extensions).
struct OpenConnection(Arc<AtomicUsize>);

impl OpenConnection {
    fn new(count: &Arc<AtomicUsize>) -> Self {
        count.fetch_add(1, Relaxed);
        OpenConnection(count.clone())
    }
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Relaxed);
    }
}

/// A graceful shutdown that breaks no request a client has sent.
///
/// Closing an idle keep-alive connection races with a request the client may be sending on it
/// (it would see the connection closed without an answer), so connections are not closed while
/// clients use them: the listener stops first (new connections are refused, none wait in the
/// backlog), then every response says `Connection: close`, so each connection closes after
/// answering its next request and its client reconnects, to be refused. The server stops once
/// no connection is left, or once no request has been in flight for [`QUIET`] (the connections
/// left are idle: they are closed), or at the shutdown timeout (what is left is cut off).
struct Drain {
    handle: ServerHandle,
    /// The listening socket (a second descriptor of it).
    listening: TcpListener,
    state: web::Data<AppState>,
    connections: Arc<AtomicUsize>,
    timeout: Duration,
    cut_off: Arc<AtomicBool>,
}

impl Drain {
    async fn on(self, signal: impl Future<Output = &'static str>) {
        let signal = signal.await;
        let asked = Instant::now();
        tracing::info!(
            signal,
            timeout_seconds = self.timeout.as_secs(),
            "shutting down gracefully: refusing new connections, finishing the requests in flight"
        );
        // Stop accepting, then close the socket itself: a connection attempt is refused instead
        // of waiting in the backlog for an accept that never comes.
        self.handle.pause().await;
        if let Err(e) = socket2::SockRef::from(&self.listening).shutdown(std::net::Shutdown::Read) {
            tracing::debug!(error = %e, "the listener stays open until the server stops");
        }
        let traffic = &self.state.traffic;
        traffic.draining.store(true, Relaxed);
        // A connection accepted just before the pause may still be on its way to a worker.
        tokio::time::sleep(Duration::from_millis(50)).await;
        let (mut quiet_since, mut started) = (Instant::now(), traffic.started.load(Relaxed));
        let in_time = loop {
            if self.connections.load(Relaxed) == 0 || quiet_since.elapsed() >= QUIET {
                break true;
            }
            if asked.elapsed() >= self.timeout {
                break false;
            }
            let now_started = traffic.started.load(Relaxed);
            if traffic.in_flight.load(Relaxed) > 0 || now_started != started {
                (quiet_since, started) = (Instant::now(), now_started);
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        self.cut_off.store(!in_time && traffic.in_flight.load(Relaxed) > 0, Relaxed);
        // Gracefully, idle connections are closed at once; out of time, everything is.
        self.handle.stop(in_time).await;
    }
}

/// Keeps the token path's cache true: applies what any replica wrote, every poll interval
/// (see `latchkey_storage`'s `hot` module). While polls fail the cache stops answering, so
/// requests go to the database and fail like it; logged once per outage.
async fn follow_changes(store: Store) {
    let mut tick = tokio::time::interval(latchkey_storage::POLL_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failing = false;
    loop {
        tick.tick().await;
        match store.sync_changes().await {
            Ok(_) if failing => {
                failing = false;
                tracing::info!("change log readable again: the token path's cache is back");
            }
            Ok(_) => {}
            Err(e) if !failing => {
                failing = true;
                tracing::warn!(error = %e, "cannot read the change log: the token path reads the database until it can");
            }
            Err(_) => {}
        }
    }
}
