//! Organisations (利用者) as a use case sees them: one within the actor's scope.

use uuid::Uuid;

use super::{Actor, App, Error};
use crate::db::{self, orgs::OrgRow};
use crate::domain::Role;

/// The organisation within the actor's scope (another organisation's id: not found).
pub async fn visible(app: &App, actor: &Actor, org_id: Uuid) -> Result<OrgRow, Error> {
    db::orgs::get(&app.db, actor.scope(), org_id)
        .await?
        .ok_or(Error::NotFound)
}

/// The organisation, for a report of it: its own users and Center admins; reviewers read
/// reports but never write them.
pub async fn for_report(app: &App, actor: &Actor, org_id: Uuid) -> Result<OrgRow, Error> {
    let org = visible(app, actor, org_id).await?;
    if actor.role == Role::Reviewer {
        return Err(Error::Forbidden);
    }
    Ok(org)
}
