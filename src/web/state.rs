//! Shared application state.

use crate::config::Config;
use crate::db::Db;
use crate::files::FileStore;
use crate::mail::Mailer;

use super::cookies::CookieNames;

/// Queue counts by filter key: when computed, and the counts per state.
pub type CountsCache = std::collections::HashMap<String, (std::time::Instant, Vec<(String, i64)>)>;

/// What every handler shares.
pub struct AppState {
    pub db: Db,
    pub config: Config,
    pub mailer: Mailer,
    pub cookies: CookieNames,
    pub files: FileStore,
    /// Queue counts per filter, kept for a couple of seconds: counting 100,000 rows on every
    /// page view would cost more than the page itself.
    pub queue_counts: std::sync::Mutex<CountsCache>,
}
