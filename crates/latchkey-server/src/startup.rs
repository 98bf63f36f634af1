//! Building and running the server: connect, migrate, bootstrap, bind, serve.

use crate::routes;
use crate::settings::Settings;
use crate::state::AppState;
use actix_web::dev::{Server, ServerHandle};
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use latchkey_storage::Store;
use std::net::TcpListener;
use tracing_actix_web::TracingLogger;

/// A built server, listening, not yet serving until awaited.
pub struct Application {
    port: u16,
    public_url: String,
    server: Server,
}

impl Application {
    /// Connects to the database, applies migrations, runs bootstrap and binds the listener.
    /// Binding its own listener lets a test run many servers on port 0 in one process.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let store = Store::connect(settings.database_url()).await.context("connecting to the database")?;
        store.migrate().await.context("applying migrations")?;
        let listener = TcpListener::bind(settings.bind).with_context(|| format!("binding {}", settings.bind))?;
        let address = listener.local_addr()?;
        let public_url = settings.public_url.clone().unwrap_or_else(|| format!("http://{address}"));
        let backend = store.backend_name();
        let state = web::Data::new(AppState::new(
            store,
            settings.master_key.clone(),
            public_url.clone(),
            settings.sessions,
            settings.console_dir.clone(),
        ));
        crate::bootstrap::run(&state, &settings).await.context("bootstrap")?;

        let server = HttpServer::new({
            let state = state.clone();
            move || App::new().wrap(TracingLogger::default()).app_data(state.clone()).configure(routes::configure)
        })
        .listen(listener)?
        .shutdown_timeout(10)
        .run();
        tracing::info!(%address, %public_url, backend, "Latchkey listening on http://{address}");
        Ok(Application { port: address.port(), public_url, server })
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

    /// Serves until stopped (SIGINT/SIGTERM, or the handle).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
