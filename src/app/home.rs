//! What a home page shows beside the checklist: for Center staff the number of organisations
//! and what waits for review and follow-up; for admins the recent activity in their scope;
//! for an organisation how far it has set itself up (its next steps start there).

use uuid::Uuid;

use super::{Actor, App, Error};
use crate::db;
pub use crate::db::followup::CenterCounts;
pub use crate::db::review::Waiting;
use crate::domain::Role;
use crate::domain::ScopeKind;
use crate::domain::catalogue::applies;
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

/// How far an organisation has set itself up: the steps before its checklist is complete
/// (offices, then connections), and the items that join the checklist only after them.
#[derive(Debug, Default)]
pub struct Setup {
    /// The organisation is still named by its user code (as `user add --org` made it): the
    /// name its receipts carry is to be set on its profile.
    pub needs_name: bool,
    /// No active office is registered yet.
    pub needs_office: bool,
    /// No active connection to NACCS is registered yet.
    pub needs_connection: bool,
    /// Where a connection is registered: the first active office or site, if any.
    pub first_location: Option<Uuid>,
    /// Catalogue items that apply to no unit yet: (number, Japanese title, English title).
    pub later: Vec<(String, String, String)>,
    /// Reports waiting for the Center on which the Center spoke last (a question to answer):
    /// (submission, receipt number).
    pub questions: Vec<(Uuid, String)>,
}

/// The organisation's set-up in the actor's scope (another organisation's: not found).
pub async fn setup(app: &App, actor: &Actor, org_id: Uuid) -> Result<Setup, Error> {
    let org = super::structure::org_for(app, actor, org_id, false).await?;
    let needs_name = org.name.trim().is_empty() || org.name.trim() == org.user_code;
    let locations = db::structure::list(&app.db, Some(org_id)).await?;
    let conns = db::structure::connections(&app.db, Some(org_id)).await?;
    let active: Vec<_> = locations.iter().filter(|l| l.active).collect();
    let needs_office = !active.iter().any(|l| l.scope_kind() == ScopeKind::Office);
    let needs_connection = !conns.iter().any(|c| c.active);
    let mut later = vec![];
    if needs_office || needs_connection {
        let catalogue = app.catalogue().await?;
        let units = super::structure::units_of("", &locations, &conns);
        later = catalogue
            .items
            .iter()
            .filter(|i| !units.iter().any(|u| applies(i, u)))
            .map(|i| (i.number.clone(), i.title_ja.clone(), i.title_en.clone()))
            .collect();
    }
    let questions = db::review::center_spoke_last(&app.db, org_id).await?;
    Ok(Setup {
        questions,
        needs_name,
        needs_office,
        needs_connection,
        first_location: active
            .iter()
            .find(|l| l.scope_kind() == ScopeKind::Office)
            .or(active.first())
            .map(|l| l.id),
        later,
    })
}
