//! Shared application state.

use crate::config::Config;
use crate::db::Db;
use crate::files::FileStore;
use crate::mail::Mailer;

use super::cookies::CookieNames;

/// What every handler shares.
pub struct AppState {
    pub db: Db,
    pub config: Config,
    pub mailer: Mailer,
    pub cookies: CookieNames,
    pub files: FileStore,
}
