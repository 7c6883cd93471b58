//! What pages read of an organisation's structure: its offices and gateway sites with their
//! connections and administrators, and a location's appointment history. Every read checks
//! that the organisation is in the actor's scope; the queries are bound to it.

use std::collections::HashMap;

use chrono::NaiveDate;
use uuid::Uuid;

use crate::app::{Actor, App, Error};
use crate::db;
pub use crate::db::appointments::AppointmentRow;
pub use crate::db::structure::{ConnectionRow, LocationRow};
use crate::domain::Scope;

/// Answers not found unless the organisation is in the actor's scope (Center staff: every
/// organisation; anyone else: their own). No query: the organisation itself was resolved by
/// [`super::org_for`] or is named by a row already read in scope.
pub fn in_scope(actor: &Actor, org_id: Uuid) -> Result<(), Error> {
    match actor.scope() {
        Scope::Center => Ok(()),
        Scope::Org(own) if own == org_id => Ok(()),
        Scope::Org(_) => Err(Error::NotFound),
    }
}

/// The organisation's locations (inactive ones too: an old report names its place).
pub async fn locations(app: &App, actor: &Actor, org_id: Uuid) -> Result<Vec<LocationRow>, Error> {
    in_scope(actor, org_id)?;
    Ok(db::structure::list(&app.db, Some(org_id)).await?)
}

/// The organisation's places that keep gateway logs (gateway sites, and offices with a
/// gateway connection), inactive ones too.
pub async fn log_places(app: &App, actor: &Actor, org_id: Uuid) -> Result<Vec<LocationRow>, Error> {
    in_scope(actor, org_id)?;
    Ok(db::structure::log_places(&app.db, org_id, None).await?)
}

/// An organisation's structure as lists show it.
#[derive(Debug, Default)]
pub struct Structure {
    /// Every location, inactive ones too.
    pub locations: Vec<LocationRow>,
    pub connections: Vec<ConnectionRow>,
    /// Every appointment, by location, newest effective date first.
    pub appointments: Vec<AppointmentRow>,
}

/// The organisation's locations with their connections and appointments.
pub async fn structure(app: &App, actor: &Actor, org_id: Uuid) -> Result<Structure, Error> {
    in_scope(actor, org_id)?;
    Ok(Structure {
        locations: db::structure::list(&app.db, Some(org_id)).await?,
        connections: db::structure::connections(&app.db, Some(org_id)).await?,
        appointments: db::appointments::list(&app.db, org_id).await?,
    })
}

/// An appointment of a location, with the receipt of the report that notified it.
#[derive(Debug)]
pub struct Appointed {
    pub row: AppointmentRow,
    /// The sealed report.
    pub receipt: Option<Notified>,
}

/// The sealed report that notified an appointment.
#[derive(Debug, Clone)]
pub struct Notified {
    pub submission: Uuid,
    pub receipt_no: String,
    /// Where its review stands (`submitted`, `under_review`, `accepted`, `returned`).
    pub state: String,
}

/// A location's appointments, newest first, each with its receipt: an appointment is notified
/// as a sealed `administrator` report that names it.
pub async fn appointment_history(
    app: &App,
    actor: &Actor,
    org_id: Uuid,
    location_id: Uuid,
) -> Result<Vec<Appointed>, Error> {
    in_scope(actor, org_id)?;
    let notified = notices(app, org_id, location_id).await?;
    Ok(db::appointments::list(&app.db, org_id)
        .await?
        .into_iter()
        .filter(|a| a.location_id == location_id)
        .map(|row| Appointed {
            receipt: notified.get(&row.id.to_string()).cloned(),
            row,
        })
        .collect())
}

/// The sealed reports that notified a location's appointments, by the appointment's id (the
/// caller has checked the organisation's scope).
pub(crate) async fn notices(
    app: &App,
    org_id: Uuid,
    location_id: Uuid,
) -> Result<HashMap<String, Notified>, Error> {
    Ok(
        db::history::sealed_at(&app.db, org_id, "administrator", location_id)
            .await?
            .into_iter()
            .filter_map(|(submission, receipt_no, data, state)| {
                let data: serde_json::Value = serde_json::from_str(&data).ok()?;
                let notified = Notified {
                    submission,
                    receipt_no,
                    state,
                };
                Some((data["appointment_id"].as_str()?.to_string(), notified))
            })
            .collect(),
    )
}

/// Who was responsible for a location on a day.
pub async fn appointed_on(
    app: &App,
    actor: &Actor,
    org_id: Uuid,
    location_id: Uuid,
    day: NaiveDate,
) -> Result<Option<AppointmentRow>, Error> {
    in_scope(actor, org_id)?;
    Ok(db::appointments::on_date(&app.db, org_id, location_id, day).await?)
}
