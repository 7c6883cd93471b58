//! The web layer's state: the application's shared state plus what only pages need.

use std::sync::Arc;

use crate::app::App;

use super::cookies::CookieNames;

/// Queue pages by key: when built, and the page's rows as shown (see `review`).
pub type QueuePages = std::collections::HashMap<
    String,
    (std::time::Instant, Arc<crate::web::html::review::QueueRows>),
>;

/// What every handler shares: the application (through `Deref`, so `state.db` reads as
/// before) and the web layer's own parts.
pub struct AppState {
    pub app: Arc<App>,
    pub cookies: CookieNames,
    /// Queue pages by filter, position and generation, kept for a moment (see `review`).
    pub queue_pages: std::sync::Mutex<QueuePages>,
    /// Request counts, latencies and upload bytes for `/metrics`.
    pub metrics: super::metrics::Metrics,
}

impl std::ops::Deref for AppState {
    type Target = App;

    fn deref(&self) -> &App {
        &self.app
    }
}

impl AppState {
    /// Runs one database step of a request that is not bounded as a whole (a large upload)
    /// within the request timeout; past it, 503.
    pub async fn bounded<T>(
        &self,
        step: impl std::future::Future<Output = super::error::AppResult<T>>,
    ) -> super::error::AppResult<T> {
        tokio::time::timeout(self.config.request_timeout, step)
            .await
            .unwrap_or(Err(super::error::AppError::Unavailable))
    }
}
