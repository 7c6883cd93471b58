//! Renewing a report: a new draft of a place that already has an accepted report starts from
//! it (data and files carried over when the draft is opened, see
//! [`crate::db::submissions::open_draft`]). Pages read here where a draft came from, or what a
//! new draft would start from, to show it and mark what was carried over.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::Place;
use crate::app::{App, Error};
use crate::db;
use crate::db::submissions::FileRow;
use crate::domain::Scope;

/// The accepted report a draft starts from.
#[derive(Debug, Clone, Serialize)]
pub struct Renewal {
    /// The accepted submission.
    pub from: Uuid,
    pub receipt_no: String,
    pub submitted_at: DateTime<Utc>,
    /// Its data (what the draft started with).
    pub data: serde_json::Value,
    /// Its files.
    pub files: Vec<FileRow>,
    /// Whether a draft holds it already; else no draft is open and this is what the next
    /// one will start from (the page shows it, and any save opens the draft).
    pub in_draft: bool,
}

impl Renewal {
    /// Whether a draft's file is one carried over (the same stored file, role and name).
    pub fn carries(&self, f: &FileRow) -> bool {
        self.files
            .iter()
            .any(|a| a.sha256 == f.sha256 && a.role == f.role && a.name == f.name)
    }

    /// The rows of the accepted report under `key` (`rows`, `equipment`), as typed.
    pub fn rows<T: serde::de::DeserializeOwned>(&self, key: &str) -> Vec<T> {
        serde_json::from_value(self.data[key].clone()).unwrap_or_default()
    }
}

/// Where the draft of a place came from (`draft`: the open one, if any), else, with no draft
/// open, the accepted report a new one would start from. The organisation is the caller's,
/// already resolved in its scope.
pub async fn renewal(
    app: &App,
    place: &Place,
    draft: Option<Uuid>,
) -> Result<Option<Renewal>, Error> {
    if !place.kind.renews() {
        return Ok(None);
    }
    let found = match draft {
        Some(d) => db::renewals::renewed_from(&app.db, place.org, d).await?,
        None => {
            db::renewals::last_accepted(&app.db, place.org, place.kind.as_str(), place.site).await?
        }
    };
    let Some((from, receipt_no, submitted_at)) = found else {
        return Ok(None);
    };
    let data = db::submissions::data(&app.db, place.org, from)
        .await?
        .unwrap_or_default();
    let files = db::submissions::files(&app.db, Scope::Org(place.org), from).await?;
    Ok(Some(Renewal {
        from,
        receipt_no,
        submitted_at,
        data,
        files,
        in_draft: draft.is_some(),
    }))
}

/// The organisation's last accepted report of a kind (`site`: `None` for the organisation):
/// (id, receipt number, submitted), within the actor's scope.
pub async fn last_accepted(
    app: &App,
    actor: &crate::app::Actor,
    org: Uuid,
    kind: &str,
    site: Option<Uuid>,
) -> Result<Option<(Uuid, String, DateTime<Utc>)>, Error> {
    crate::app::structure::in_scope(actor, org)?;
    Ok(db::renewals::last_accepted(&app.db, org, kind, site).await?)
}
