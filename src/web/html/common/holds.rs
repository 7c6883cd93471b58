//! The legal-hold box (法的保全) the organisation's and the submission's Center pages share:
//! the hold in force, and for Center admins the form that sets or lifts it.

use uuid::Uuid;

use crate::app::{self, Actor, App};
use crate::domain::Role;
use crate::web::error::AppResult;
use crate::web::page::jst;

/// A hold in force, as shown.
pub struct HoldItem {
    pub reason: String,
    pub by: String,
    pub since: String,
}

/// The box on a page.
pub struct HoldBox {
    /// Where the form posts.
    pub action: String,
    /// The hold on this organisation or submission.
    pub held: Option<HoldItem>,
    /// On a submission's page: the hold on its whole organisation.
    pub org_held: Option<HoldItem>,
    /// On an organisation's page: how many of its submissions are held one by one.
    pub submissions_held: usize,
    pub can_change: bool,
    /// A refused reason (locale key) and what was typed.
    pub error: Option<&'static str>,
    pub reason: String,
}

fn item(h: &app::retention::HoldRow) -> HoldItem {
    HoldItem {
        reason: h.reason.clone(),
        by: h.set_by.clone(),
        since: jst(&h.set_at),
    }
}

/// The box for an organisation (`submission: None`) or one of its submissions.
pub async fn hold_box(
    app: &App,
    actor: &Actor,
    org: Uuid,
    submission: Option<Uuid>,
) -> AppResult<HoldBox> {
    let holds = app::retention::holds_of(app, actor, org).await?;
    let org_hold = holds.iter().find(|h| h.submission_id.is_none());
    let (held, org_held) = match submission {
        None => (org_hold.map(item), None),
        Some(s) => (
            holds.iter().find(|h| h.submission_id == Some(s)).map(item),
            org_hold.map(item),
        ),
    };
    Ok(HoldBox {
        action: match submission {
            None => format!("/admin/orgs/{org}/hold"),
            Some(s) => format!("/review/{s}/hold"),
        },
        held,
        org_held,
        submissions_held: match submission {
            None => holds.iter().filter(|h| h.submission_id.is_some()).count(),
            Some(_) => 0,
        },
        can_change: actor.role == Role::CenterAdmin,
        error: None,
        reason: String::new(),
    })
}
