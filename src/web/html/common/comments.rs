//! Comment threads and return notes as pages show them: the Center's review page, an
//! organisation's receipt and the draft that revises a returned version.

use uuid::Uuid;

use crate::db;
use crate::domain::{Role, Scope};
use crate::web::error::AppResult;
use crate::web::page::jst;
use crate::web::state::AppState;

/// A comment as shown.
pub struct CommentItem {
    pub author: String,
    pub center: bool,
    pub body: String,
    pub at: String,
}

/// The thread of a submission for the caller's scope.
pub async fn thread(state: &AppState, scope: Scope, id: Uuid) -> AppResult<Vec<CommentItem>> {
    Ok(db::review::comments(&state.db, scope, id)
        .await?
        .into_iter()
        .map(|c| CommentItem {
            author: c.author,
            center: Role::parse(&c.author_role).is_some_and(Role::is_center),
            body: c.body,
            at: jst(&c.created_at),
        })
        .collect())
}

/// Why the version a draft revises was returned, shown above the draft's form.
pub struct ReturnNote {
    pub id: Uuid,
    pub receipt: String,
    pub reason: String,
    pub reviewer: String,
    pub at: String,
    pub comments: Vec<CommentItem>,
}

/// The return reason and comments of the version `draft` revises (`None`: not a revision).
pub async fn return_note(
    state: &AppState,
    org_id: Uuid,
    draft: Option<Uuid>,
) -> AppResult<Option<ReturnNote>> {
    let Some(draft) = draft else { return Ok(None) };
    let Some(from) = db::review::revised_from(&state.db, org_id, draft).await? else {
        return Ok(None);
    };
    let Some(d) = db::review::decision(&state.db, Scope::Org(org_id), from).await? else {
        return Ok(None);
    };
    let receipt = db::submissions::get(&state.db, Scope::Org(org_id), from)
        .await?
        .and_then(|s| s.receipt_no)
        .unwrap_or_default();
    Ok(Some(ReturnNote {
        id: from,
        receipt,
        reason: d.reason,
        reviewer: d.reviewer,
        at: jst(&d.decided_at),
        comments: thread(state, Scope::Org(org_id), from).await?,
    }))
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
