//! secportal: the portal through which NACCS users report their security measures
//! (NACCS §7.4) and the NACCS Center reviews them.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod app;
pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod files;
pub mod i18n;
pub mod mail;
pub mod maintenance;
pub mod retention;
pub mod security;
pub mod server;
pub mod web;

use std::sync::Arc;

use axum::Router;

pub use config::Config;
use db::Db;

/// A built application: its router and the state behind it.
pub struct App {
    pub router: Router,
    pub state: Arc<web::AppState>,
}

/// Connects, migrates, prints the setup link when no Center admin exists, and builds the router.
pub async fn app(config: Config) -> anyhow::Result<App> {
    app_with(config, Router::new()).await
}

/// Like [`app`], with extra routes behind the same layers (tests add failure probes this way).
pub async fn app_with(config: Config, extra: Router<Arc<web::AppState>>) -> anyhow::Result<App> {
    i18n::check_locales().map_err(|e| anyhow::anyhow!("locale files: {e}"))?;
    tokio::fs::create_dir_all(&config.data_dir).await?;
    let db = open_db(&config).await?;
    let mailer = mail::Mailer::from_config(&config)?;
    let cookies = web::cookies::CookieNames::new(config.is_https());
    let files = files::FileStore::from_config(&config)?.with_holds(app::blob_holds::shared(&db));
    let config_node = config.storage.node_id.clone();
    let log_searches = Arc::new(app::log_search::Searches::new(config.log_searches));
    let core = Arc::new(app::App {
        db,
        config,
        mailer,
        files,
        catalogues: Default::default(),
        queue_counts: Default::default(),
        queue_names: Default::default(),
        generation: Default::default(),
        current_revision: Default::default(),
        sessions: Default::default(),
        stopping: Default::default(),
        instance: format!("{}/{}", config_node, uuid::Uuid::now_v7()),
        announced: Default::default(),
        echo: tokio::sync::watch::Sender::new(0),
        log_searches,
    });
    let state = Arc::new(web::AppState {
        app: core.clone(),
        cookies,
        queue_pages: Default::default(),
        metrics: Default::default(),
    });
    sweep_files(&state).await;
    if let Some(link) = app::onboarding::setup_link_if_needed(&state).await? {
        // The one deliberate secret in the log: without it nobody could ever sign in.
        tracing::warn!(setup_link = %link, "no center admin yet: open this one-time link within 1 hour to create one");
    }
    security::warm_up().await;
    spawn_housekeeping(state.clone());
    app::notify::spawn_scheduler(core.clone());
    app::log_recheck::spawn_worker(core.clone());
    app::changes::spawn_listener(core.clone());
    maintenance::sweep::spawn_sweeper(core.clone());
    maintenance::check::spawn_start_check(core);
    let router = web::router(state.clone(), extra);
    Ok(App { router, state })
}

/// Loads (or on first start makes) the audit key, connects, migrates, and seals the audit
/// chain's switch-over to the key if that was never done.
pub async fn open_db(config: &Config) -> anyhow::Result<Db> {
    let db = Db::connect(&config.database_url).await?;
    let ran = db::migrate::run(&db).await?;
    if ran > 0 {
        tracing::info!(
            migrations = ran,
            backend = db.backend(),
            "database migrated"
        );
    }
    // A key file is made only for a trail never sealed to a key (a new database, or one an
    // older version wrote unkeyed): a database restored without its key file must not go on
    // under a new key (its trail would read as tampered with, and the sealed second-factor
    // secrets would not open).
    let written = db::audit::sealed(&db).await?;
    let create = if written {
        security::KeyFile::MustExist
    } else {
        security::KeyFile::CreateIfMissing
    };
    let key = security::audit_key(config, create).await.map_err(|e| {
        if written {
            e.context(
                "this database's audit trail was written with a key: put back the key file it was written with \
                 (audit.key of the data folder it came from, kept apart from the backups) or set SECPORTAL_AUDIT_KEY",
            )
        } else {
            e
        }
    })?;
    let db = db.with_audit_key(key);
    if !db::audit::key_fits(&db).await? {
        anyhow::bail!(
            "the audit key does not fit this database: its audit trail was written with another key. \
             Put back the key file it was written with (audit.key of the data folder it came from) or set \
             SECPORTAL_AUDIT_KEY to it; nothing was changed"
        );
    }
    match db::second_factor::seal_plain_secrets(&db).await? {
        0 => {}
        n => tracing::info!(
            secrets = n,
            "second-factor secrets stored in the clear are now sealed"
        ),
    }
    match db::audit::seal(&db).await? {
        Some(1) => tracing::info!("audit chain keyed from its first entry"),
        Some(from) => tracing::warn!(
            keyed_from = from,
            "audit chain keyed from entry {from} on; the {} entries before it stay unkeyed, bound to the chain by the seal made now",
            from - 1
        ),
        None => {}
    }
    Ok(db)
}

/// Removes upload leftovers, and unreferenced files older than the age guard (a day).
async fn sweep_files(state: &web::AppState) {
    match state.files.sweep_staging().await {
        Ok(0) => {}
        Ok(n) => tracing::info!(temps = n, "partial uploads removed"),
        Err(e) => tracing::warn!(error = %e, "staging sweep failed"),
    }
    maintenance::sweep::sweep_logged(state).await;
}

/// Prunes expired sessions and old login failures every ten minutes.
fn spawn_housekeeping(state: Arc<web::AppState>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(600));
        loop {
            tick.tick().await;
            let now = db::now();
            let idle = chrono::Duration::from_std(state.config.session_idle)
                .unwrap_or(chrono::Duration::minutes(30));
            let abs = chrono::Duration::from_std(state.config.session_absolute)
                .unwrap_or(chrono::Duration::hours(12));
            if let Err(e) = db::sessions::prune(&state.db, now - idle, now - abs).await {
                tracing::warn!(error = %e, "session prune failed");
            }
            if let Err(e) =
                db::second_factor::prune_pending(&state.db, now - chrono::Duration::hours(1)).await
            {
                tracing::warn!(error = %e, "pending sign-in prune failed");
            }
            if let Err(e) =
                db::passkeys::prune_challenges(&state.db, now - chrono::Duration::hours(1)).await
            {
                tracing::warn!(error = %e, "passkey challenge prune failed");
            }
            if let Err(e) = db::unlock::prune(&state.db, now - chrono::Duration::hours(1)).await {
                tracing::warn!(error = %e, "unlock link prune failed");
            }
            if let Err(e) = db::throttle::prune(&state.db, now - chrono::Duration::hours(1)).await {
                tracing::warn!(error = %e, "login failure prune failed");
            }
            if let Err(e) =
                db::idempotency::prune(&state.db, now - chrono::Duration::hours(24)).await
            {
                tracing::warn!(error = %e, "idempotency key prune failed");
            }
        }
    });
}

/// Serves until SIGTERM or Ctrl-C, then finishes in-flight requests.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let addr = config.addr;
    // Held while serving: `restore` refuses to replace the data under a running portal.
    let _lock = maintenance::lock::serving(&config.data_dir)?;
    let App { router, state } = app(config).await?;
    // The signal handlers are installed before the listening line is written: a supervisor
    // (or a test) that sends SIGTERM as soon as it reads that line gets a clean stop.
    let signal = shutdown_signal();
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(addr = %listener.local_addr()?, backend = state.db.backend(), "secportal listening");
    let timeouts = server::Timeouts {
        header: state.config.header_timeout,
        idle: state.config.idle_timeout,
    };
    let core = state.app.clone();
    let shutdown = async move {
        signal.await;
        // Background work (a retention purge) ends after the batch in hand.
        core.stopping
            .store(true, std::sync::atomic::Ordering::Relaxed);
    };
    server::serve_on(listener, router, timeouts, shutdown).await?;
    // A connection still busy past this is not waited for: the process ends, and its open
    // transaction is rolled back by the database.
    if tokio::time::timeout(std::time::Duration::from_secs(10), state.db.close())
        .await
        .is_err()
    {
        tracing::warn!("database connections still busy after 10 s; stopping anyway");
    }
    tracing::info!("secportal stopped");
    Ok(())
}

/// Waits for SIGTERM or Ctrl-C. The handlers are installed when this is called, not when
/// the future is first polled: a signal that arrives while the server is busy with its first
/// requests is never the default action (the process killed on the spot).
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let handlers = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::terminate()).ok(),
            signal(SignalKind::interrupt()).ok(),
        )
    };
    async move {
        #[cfg(unix)]
        {
            let (mut term, mut int) = handlers;
            let wait = |s: Option<tokio::signal::unix::Signal>| async move {
                match s {
                    Some(mut s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                _ = wait(term.take()) => {},
                _ = wait(int.take()) => {},
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
        tracing::info!("shutdown signal received");
    }
}
