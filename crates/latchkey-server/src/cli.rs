//! Command line: `latchkey serve`, `latchkey migrate` and `latchkey realm export|import`.

use crate::settings::SettingsArgs;
use crate::startup::Application;
use anyhow::Context;
use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Latchkey: a multi-tenant OAuth 2.0 / OpenID Connect authorization server.
///
/// Every setting can be given as a flag or as the environment variable shown beside it.
#[derive(Debug, Parser)]
#[command(name = "latchkey", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    settings: SettingsArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Apply migrations, bootstrap the root realm, and serve HTTP until SIGINT/SIGTERM.
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Exit 0 when the server at LATCHKEY_BIND answers 200 on /health/ready (a container's
    /// HEALTHCHECK; a wildcard bind address is probed on loopback).
    Healthcheck,
    /// Export a realm's configuration to a file, or import one (`latchkey realm --help`).
    Realm {
        #[command(subcommand)]
        command: crate::realm_transfer::RealmCommand,
    },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // Before settings are resolved: a probe creates no data dir and reads no master key.
    if let Command::Healthcheck = cli.command {
        return crate::healthcheck::run(&cli.settings.bind);
    }
    let log_format = cli.settings.log_format;
    crate::telemetry::init(log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        let settings = cli.settings.resolve()?;
        match cli.command {
            Command::Serve => {
                let app = Application::build(settings).await?;
                app.run_until_stopped().await.context("server failed")
            }
            Command::Migrate => {
                let store = latchkey_storage::Store::connect(settings.database_url())
                    .await
                    .context("connecting to the database")?;
                store.migrate().await.context("applying migrations")?;
                tracing::info!(backend = store.backend_name(), "migrations applied");
                Ok(())
            }
            Command::Realm { command } => crate::realm_transfer::run(command, &settings).await,
            Command::Healthcheck => unreachable!("answered before the runtime starts"),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "latchkey stopped");
            // For a person reading the terminal, even with RUST_LOG=off; JSON logs stay JSON.
            if log_format == crate::telemetry::LogFormat::Text {
                eprintln!("error: {e:#}");
            }
            ExitCode::FAILURE
        }
    }
}
