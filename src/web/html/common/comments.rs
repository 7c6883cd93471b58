//! The comment thread under a sealed submission (the review page and the receipt show it)
//! and the note above a revision saying why its previous version was returned.

use uuid::Uuid;

use crate::app::{self, App};
use crate::domain::Scope;
use crate::web::error::AppResult;
use crate::web::page::jst;

/// A comment as shown.
pub struct CommentItem {
    pub author: String,
    pub center: bool,
    pub body: String,
    pub at: String,
}

impl From<app::review::Comment> for CommentItem {
    /// A comment as Center staff see it (its author named).
    fn from(c: app::review::Comment) -> Self {
        CommentItem::seen(c, false)
    }
}

impl CommentItem {
    /// A comment as its reader sees it: for an organisation (`org_view`) the Center's
    /// comments are the NACCS Center's, without the name of who wrote them (`author` empty).
    fn seen(c: app::review::Comment, org_view: bool) -> CommentItem {
        CommentItem {
            author: if org_view && c.center {
                String::new()
            } else {
                c.author
            },
            center: c.center,
            body: c.body,
            at: jst(&c.at),
        }
    }
}

/// The thread of a submission for the caller's scope; `org_view` for a reader of the
/// organisation (Center staff unnamed).
pub async fn thread(
    app: &App,
    scope: Scope,
    id: Uuid,
    org_view: bool,
) -> AppResult<Vec<CommentItem>> {
    Ok(app::review::comments(app, scope, id)
        .await?
        .into_iter()
        .map(|c| CommentItem::seen(c, org_view))
        .collect())
}

/// The form under a comment thread: where it posts, and after a refusal the text as typed
/// and why it was refused.
pub struct CommentBox {
    pub action: String,
    pub draft: String,
    pub error: Option<&'static str>,
}

impl CommentBox {
    pub fn new(action: String) -> CommentBox {
        CommentBox {
            action,
            draft: String::new(),
            error: None,
        }
    }
}

/// Why the version a draft revises was returned, shown above the draft's form.
pub struct ReturnNote {
    pub id: Uuid,
    pub receipt: String,
    pub reason: String,
    /// Who returned it, for Center staff (an organisation reads "NACCS センター").
    pub reviewer: Option<String>,
    pub at: String,
    pub comments: Vec<CommentItem>,
}

/// The return reason and comments of the version `draft` revises (`None`: not a revision),
/// as the organisation's pages show them: the Center's people unnamed.
pub async fn return_note(
    app: &App,
    org_id: Uuid,
    draft: Option<Uuid>,
) -> AppResult<Option<ReturnNote>> {
    note(app, org_id, draft, true).await
}

/// [`return_note`] for the Center's review page, naming the reviewer and the commenters.
pub async fn return_note_named(
    app: &App,
    org_id: Uuid,
    draft: Option<Uuid>,
) -> AppResult<Option<ReturnNote>> {
    note(app, org_id, draft, false).await
}

/// The return note a report page shows: that of the version its draft revises, else, with a
/// returned version shown in place of a draft, that version's.
pub async fn page_return_note(
    app: &App,
    org_id: Uuid,
    drafted: &super::renewal::DraftState,
) -> AppResult<Option<ReturnNote>> {
    match &drafted.form.shown {
        Some(s) if s.state == "returned" => returned_note(app, org_id, s.id).await,
        _ => return_note(app, org_id, drafted.draft_id()).await,
    }
}

/// Why a returned submission of the organisation was returned, as its pages show it.
pub async fn returned_note(
    app: &App,
    org_id: Uuid,
    submission: Uuid,
) -> AppResult<Option<ReturnNote>> {
    let n = app::review::returned_note(app, org_id, submission).await?;
    Ok(n.map(|n| seen_note(n, true)))
}

async fn note(
    app: &App,
    org_id: Uuid,
    draft: Option<Uuid>,
    org_view: bool,
) -> AppResult<Option<ReturnNote>> {
    Ok(app::review::return_note(app, org_id, draft)
        .await?
        .map(|n| seen_note(n, org_view)))
}

/// A return note as a page shows it (`org_view`: the Center's people unnamed).
fn seen_note(n: app::review::ReturnNote, org_view: bool) -> ReturnNote {
    ReturnNote {
        id: n.id,
        receipt: n.receipt,
        reason: n.reason,
        reviewer: (!org_view).then_some(n.reviewer),
        at: jst(&n.at),
        comments: n
            .comments
            .into_iter()
            .map(|c| CommentItem::seen(c, org_view))
            .collect(),
    }
}

/// The page where a kind of report is drafted.
pub fn draft_page(kind: &str) -> Option<&'static str> {
    match kind {
        "system_configuration" => Some("system-configuration"),
        "outside_connections" => Some("outside-connections"),
        "antivirus" => Some("antivirus"),
        "inhouse_measures" => Some("inhouse-measures"),
        "gateway_logs" => Some("gateway-logs"),
        _ => None,
    }
}

/// A comment as posted under a sealed submission (the Center's page or the receipt).
#[derive(serde::Deserialize)]
pub struct CommentForm {
    #[serde(default)]
    pub body: String,
}

/// The field error of a refused comment, if that is why it was refused.
pub fn comment_refusal(e: &app::Error) -> Option<&'static str> {
    match e {
        app::Error::Invalid(errors) => errors.get("body"),
        _ => None,
    }
}
