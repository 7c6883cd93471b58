//! An organisation's structure (組織構成): offices and gateway sites, and who may read or
//! change them. Every organisation page resolves its organisation here first.

pub mod appointments;
pub mod locations;
pub mod reads;

pub use reads::in_scope;

use uuid::Uuid;

use super::{Actor, App, Error};
use crate::db;
use crate::db::orgs::OrgRow;
use crate::db::structure::LocationRow;
use crate::domain::catalogue::Unit;
use crate::domain::checklist::Open;
use crate::domain::{ConnectionForm, Role, ScopeKind};

/// The roles that change an organisation's structure (its own org admin, or a Center admin).
pub const EDITORS: [Role; 2] = [Role::OrgAdmin, Role::CenterAdmin];

/// Whether the actor may change structure (of an organisation already in their scope).
pub fn can_edit(actor: &Actor) -> bool {
    actor.holds(&EDITORS)
}

/// Resolves the organisation within the actor's scope (another organisation's id: not
/// found); `write` also requires an org admin of it or a Center admin (otherwise forbidden).
pub async fn org_for(app: &App, actor: &Actor, org_id: Uuid, write: bool) -> Result<OrgRow, Error> {
    let org = db::orgs::get(&app.db, actor.scope(), org_id)
        .await?
        .ok_or(Error::NotFound)?;
    if write && !can_edit(actor) {
        return Err(Error::Forbidden);
    }
    Ok(org)
}

/// The organisation and one of its locations (not found for another organisation's).
pub async fn location_for(
    app: &App,
    actor: &Actor,
    org_id: Uuid,
    id: Uuid,
    write: bool,
) -> Result<(OrgRow, LocationRow), Error> {
    let org = org_for(app, actor, org_id, write).await?;
    let loc = db::structure::get(&app.db, org_id, id)
        .await?
        .ok_or(Error::NotFound)?;
    Ok((org, loc))
}

/// The names of the organisation's active locations; `offices_only` leaves out gateway sites.
pub async fn place_names(
    app: &App,
    org_id: Uuid,
    offices_only: bool,
) -> Result<Vec<String>, Error> {
    Ok(db::structure::list(&app.db, Some(org_id))
        .await?
        .into_iter()
        .filter(|l| l.active && (!offices_only || l.scope_kind() == ScopeKind::Office))
        .map(|l| l.name)
        .collect())
}

/// The units a report can be due for: the organisation, then each active location, with the
/// connection forms active there. `locations` and `conns` are one organisation's.
pub fn units_of(
    whole_org: &str,
    locations: &[LocationRow],
    conns: &[db::structure::ConnectionRow],
) -> Vec<Unit> {
    let active_forms = |loc: Option<Uuid>| -> Vec<ConnectionForm> {
        let mut v: Vec<ConnectionForm> = conns
            .iter()
            .filter(|c| c.active && loc.is_none_or(|l| c.location_id == l))
            .filter_map(|c| c.form())
            .collect();
        v.sort();
        v.dedup();
        v
    };
    let gateway = |loc: Uuid| active_forms(Some(loc)).contains(&ConnectionForm::Gateway);
    // Where the gateway logs are kept (see `Unit::keeps_logs`): a gateway site through its own
    // gateway connection or its office's; an office only while it has no active site.
    let keeps_logs = |l: &LocationRow| match l.scope_kind() {
        ScopeKind::GatewaySite => gateway(l.id) || l.office_id.is_some_and(gateway),
        ScopeKind::Office => {
            gateway(l.id)
                && !locations.iter().any(|s| {
                    s.active
                        && s.scope_kind() == ScopeKind::GatewaySite
                        && s.office_id == Some(l.id)
                })
        }
        ScopeKind::Organisation => false,
    };
    let mut units = vec![Unit {
        kind: ScopeKind::Organisation,
        id: None,
        name: whole_org.to_string(),
        forms: active_forms(None),
        keeps_logs: false,
    }];
    units.extend(locations.iter().filter(|l| l.active).map(|l| Unit {
        kind: l.scope_kind(),
        id: Some(l.id),
        name: l.name.clone(),
        forms: active_forms(Some(l.id)),
        keeps_logs: keeps_logs(l),
    }));
    units
}

/// Unclosed instructions and open requests as the checklist weighs them, with their
/// organisation (`None`: every organisation's).
pub async fn open_items(app: &App, org: Option<Uuid>) -> Result<Vec<(Uuid, Open)>, Error> {
    let today = crate::domain::dates::today();
    Ok(db::followup::open_items(&app.db, org)
        .await?
        .into_iter()
        .map(|o| {
            (
                o.org_id,
                Open {
                    kind: o.item_key,
                    location_id: o.location_id,
                    id: o.id,
                    instruction: o.instruction,
                    overdue: o.state == "open" && o.due_date < today,
                    answered: o.instruction && o.state == "answered",
                    due: Some(o.due_date),
                },
            )
        })
        .collect())
}
