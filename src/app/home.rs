//! What a home page shows beside the checklist: for Center staff the number of organisations
//! and what waits for review and follow-up; for admins the recent activity in their scope.

use super::{Actor, App, Error};
use crate::db;
pub use crate::db::followup::CenterCounts;
pub use crate::db::review::Waiting;
use crate::domain::Role;
use crate::domain::dates::today;

/// How many audit entries the recent-activity list holds.
const ACTIVITY: i64 = 10;

/// A home page's figures and lists (empty where the role does not see them).
#[derive(Debug, Default)]
pub struct Overview {
    pub org_count: usize,
    /// What waits for review, the actor's share included (Center staff).
    pub waiting: db::review::Waiting,
    /// Open and overdue follow-up (Center staff).
    pub followup: db::followup::CenterCounts,
    /// The newest audit entries in the actor's scope (Center and org admins).
    pub activity: Vec<db::audit::Row>,
    /// What the ids of the activity name.
    pub names: super::trail::Names,
}

/// The home page's reads for the actor.
pub async fn overview(app: &App, actor: &Actor) -> Result<Overview, Error> {
    let mut o = Overview::default();
    if actor.role.is_center() {
        o.org_count = db::orgs::list(&app.db, actor.scope()).await?.len();
        o.waiting = db::review::waiting(&app.db, actor.id).await?;
        o.followup = db::followup::center_counts(&app.db, today()).await?;
    }
    if matches!(actor.role, Role::CenterAdmin | Role::OrgAdmin) {
        o.activity = db::audit::recent(&app.db, actor.scope().org_filter(), ACTIVITY).await?;
        o.names = super::trail::names(app, actor, &o.activity).await?;
    }
    Ok(o)
}
