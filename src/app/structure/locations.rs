//! Offices (事業所) and gateway sites (ゲートウェイ設置場所) of an organisation and their NACCS
//! connections: created, renamed (optimistic: a stale version is a conflict), deactivated
//! (never deleted) and reactivated.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{location_for, org_for};
use crate::app::{Actor, App, Error, FieldErrors};
use crate::db;
use crate::db::structure::NewLocation;
use crate::domain::input::text;
use crate::domain::{ConnectionForm, ScopeKind};

/// A new office or gateway site.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct NewLocationInput {
    pub org: Uuid,
    /// `office` or `gateway_site`.
    #[serde(default)]
    pub kind: String,
    /// The office a gateway site belongs to (required for a site).
    #[serde(default)]
    pub office: Option<Uuid>,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub address: String,
}

/// Creates an office or gateway site (org admin of the organisation or a Center admin), with
/// its audit entry; a site under another organisation's office is not found.
pub async fn create_location(
    app: &App,
    actor: &Actor,
    input: NewLocationInput,
) -> Result<Uuid, Error> {
    let org_id = input.org;
    org_for(app, actor, org_id, true).await?;
    let mut errors = FieldErrors::default();
    let kind = match input.kind.as_str() {
        "office" => Some(ScopeKind::Office),
        "gateway_site" => Some(ScopeKind::GatewaySite),
        _ => {
            errors.add("kind", "error.kind_invalid");
            None
        }
    };
    let office_id = if kind == Some(ScopeKind::GatewaySite) {
        if input.office.is_none() {
            errors.add("office_id", "error.office_required");
        }
        input.office
    } else {
        None
    };
    let name = errors.take("name", text(&input.name, 200, true));
    let address = errors.take("address", text(&input.address, 300, true));
    let (Some(kind), Some(name), Some(address), true) = (kind, name, address, errors.is_empty())
    else {
        return Err(Error::Invalid(errors));
    };
    let mut tx = app.db.begin().await?;
    let new = NewLocation {
        org_id,
        kind,
        office_id,
        name: &name,
        address: &address,
    };
    let id = db::structure::insert(&mut tx, &new)
        .await?
        .ok_or(Error::NotFound)?;
    let mut entry = actor.audit("location.created", Some(org_id), id.to_string());
    entry.detail = serde_json::json!({ "kind": kind.as_str(), "name": name });
    db::audit::append(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(id)
}

/// A location's new name and address, over the version the editor read.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LocationEdit {
    pub org: Uuid,
    pub location: Uuid,
    pub version: i64,
    pub name: String,
    pub address: String,
}

/// Why an edit was refused because someone saved first: what this editor tried.
pub const CHANGED_MEANWHILE: &str = "error.changed_meanwhile";

/// Saves a location's name and address unless someone saved since `version` was read
/// (a conflict, `error.changed_meanwhile`).
pub async fn update_location(app: &App, actor: &Actor, input: LocationEdit) -> Result<(), Error> {
    let (org_id, id) = (input.org, input.location);
    location_for(app, actor, org_id, id, true).await?;
    let mut errors = FieldErrors::default();
    let name = errors.take("name", text(&input.name, 200, true));
    let address = errors.take("address", text(&input.address, 300, true));
    let (Some(name), Some(address)) = (name, address) else {
        return Err(Error::Invalid(errors));
    };
    let mut tx = app.db.begin().await?;
    if !db::structure::update(&mut tx, org_id, id, input.version, &name, &address).await? {
        return Err(Error::Conflict(CHANGED_MEANWHILE));
    }
    let mut entry = actor.audit("location.updated", Some(org_id), id.to_string());
    entry.detail = serde_json::json!({ "name": name, "address": address });
    db::audit::append(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(())
}

/// Deactivates (never deletes) or reactivates a location; audited when it changed.
pub async fn set_location_active(
    app: &App,
    actor: &Actor,
    org_id: Uuid,
    id: Uuid,
    active: bool,
) -> Result<(), Error> {
    location_for(app, actor, org_id, id, true).await?;
    let mut tx = app.db.begin().await?;
    if db::structure::set_active(&mut tx, org_id, id, active).await? {
        let action = if active {
            "location.reactivated"
        } else {
            "location.deactivated"
        };
        db::audit::append(&mut tx, &actor.audit(action, Some(org_id), id.to_string())).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// A NACCS connection of a location.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct NewConnection {
    pub org: Uuid,
    pub location: Uuid,
    /// The connection form (接続形態).
    #[serde(default)]
    pub form: String,
    #[serde(default)]
    pub router_id: String,
}

/// Adds a connection to an active location, with its audit entry.
pub async fn add_connection(app: &App, actor: &Actor, input: NewConnection) -> Result<Uuid, Error> {
    let (org_id, id) = (input.org, input.location);
    location_for(app, actor, org_id, id, true).await?;
    let mut errors = FieldErrors::default();
    let kind = ConnectionForm::parse(&input.form);
    if kind.is_none() {
        errors.add("form", "error.form_invalid");
    }
    let router = errors.take("router_id", text(&input.router_id, 50, false));
    let (Some(kind), Some(router)) = (kind, router) else {
        return Err(Error::Invalid(errors));
    };
    let mut tx = app.db.begin().await?;
    let cid = db::structure::add_connection(&mut tx, org_id, id, kind, &router)
        .await?
        .ok_or(Error::Conflict("error.conflict.body"))?;
    let mut entry = actor.audit("connection.added", Some(org_id), cid.to_string());
    entry.detail =
        serde_json::json!({ "location": id, "form": kind.as_str(), "router_id": router });
    db::audit::append(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(cid)
}

/// Deactivates a connection (audited when it changed); answers its location.
pub async fn deactivate_connection(
    app: &App,
    actor: &Actor,
    org_id: Uuid,
    id: Uuid,
) -> Result<Uuid, Error> {
    org_for(app, actor, org_id, true).await?;
    let conn = db::structure::connections(&app.db, Some(org_id))
        .await?
        .into_iter()
        .find(|c| c.id == id)
        .ok_or(Error::NotFound)?;
    let mut tx = app.db.begin().await?;
    if db::structure::deactivate_connection(&mut tx, org_id, id).await? {
        db::audit::append(
            &mut tx,
            &actor.audit("connection.deactivated", Some(org_id), id.to_string()),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(conn.location_id)
}
