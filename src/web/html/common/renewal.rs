//! A draft that renews an accepted report, as its page shows it: where it came from (receipt
//! number and day) and its files marked 引き継ぎ; with no draft open, what a new one would
//! start from.

use chrono::{DateTime, Datelike, Utc};
use uuid::Uuid;

use super::files::{FileItem, file_item};
use crate::app::submissions::renewal::{Renewal, renewal};
use crate::app::submissions::{Place, ReportKind};
use crate::db;
use crate::domain::Scope;
use crate::i18n::Tr;
use crate::web::error::AppResult;
use crate::web::state::AppState;

/// The line at the top of a renewed draft.
pub struct RenewalNote {
    /// The accepted report (its receipt is linked).
    pub from: Uuid,
    /// 「前回受理された報告（受付番号 …、YYYY年M月D日）から引き継いでいます」
    pub text: String,
    /// No draft is open yet: saving makes this the draft.
    pub preview: bool,
}

/// The note of a renewal, in the page's language.
pub fn note(t: &Tr, r: &Renewal) -> RenewalNote {
    note_of(t, r.from, &r.receipt_no, r.submitted_at, !r.in_draft)
}

/// The note for a form filled in from the accepted report `from` (receipt number, when it
/// was submitted); `preview`: no draft holds it yet.
pub fn note_of(
    t: &Tr,
    from: Uuid,
    receipt_no: &str,
    submitted_at: DateTime<Utc>,
    preview: bool,
) -> RenewalNote {
    let day = (submitted_at + chrono::Duration::hours(9)).date_naive();
    let date = t.f(
        "renewal.date",
        &[
            ("y", &day.year().to_string()),
            ("m", &day.month().to_string()),
            ("d", &day.day().to_string()),
            ("mm", &format!("{:02}", day.month())),
            ("dd", &format!("{:02}", day.day())),
        ],
    );
    RenewalNote {
        from,
        text: t.f(
            "renewal.from",
            &[("receipt", receipt_no), ("date", date.as_str())],
        ),
        preview,
    }
}

/// What a page of a place needs of its draft: the draft (if open), the renewal behind it (or
/// before it) and the files to list, carried ones marked.
pub struct DraftState {
    pub draft: Option<db::submissions::SubmissionRow>,
    pub renewal: Option<Renewal>,
    pub files: Vec<FileItem>,
}

impl DraftState {
    /// The data the form starts from: the draft's, else the accepted report's a new draft
    /// would start from, else nothing.
    pub fn data(&self) -> serde_json::Value {
        match (&self.draft, &self.renewal) {
            (Some(d), _) => serde_json::from_str(&d.data).unwrap_or_default(),
            (None, Some(r)) => r.data.clone(),
            (None, None) => serde_json::Value::Null,
        }
    }

    /// The note for the page, in its language.
    pub fn note(&self, t: &Tr) -> Option<RenewalNote> {
        self.renewal.as_ref().map(|r| note(t, r))
    }
}

/// Reads the open draft of an organisation-wide kind, its renewal and its files.
pub async fn draft_state(state: &AppState, org: Uuid, kind: ReportKind) -> AppResult<DraftState> {
    let draft = db::submissions::draft(&state.db, org, kind.as_str(), None).await?;
    let place = Place::org(org, kind);
    let renewal = renewal(state, &place, draft.as_ref().map(|d| d.id)).await?;
    let files = match (&draft, &renewal) {
        (Some(d), _) => db::submissions::files(&state.db, Scope::Org(org), d.id)
            .await?
            .into_iter()
            .map(|f| {
                let carried = renewal.as_ref().is_some_and(|r| r.carries(&f));
                FileItem {
                    carried,
                    ..file_item(f)
                }
            })
            .collect(),
        (None, Some(r)) => r
            .files
            .iter()
            .cloned()
            .map(|f| FileItem {
                carried: true,
                in_draft: false,
                ..file_item(f)
            })
            .collect(),
        (None, None) => vec![],
    };
    Ok(DraftState {
        draft,
        renewal,
        files,
    })
}
