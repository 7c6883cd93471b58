//! The administrator (管理責任者) of an office or gateway site, notified to the Center as a
//! sealed report, and the attestation of §7.4.2(1) for a location's NACCS router.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::location_for;
use crate::app::submissions::{REPORTERS, Step, Stepped, no_revision_open};
use crate::app::{Actor, App, Error, FieldErrors};
use crate::db;
use crate::db::appointments::NewAppointment;
use crate::db::structure::LocationRow;
use crate::domain::Email;
use crate::domain::input::{date, kana, phone_number, text};

/// An appointment as typed.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AppointInput {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub name_kana: String,
    #[serde(default)]
    pub department: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub emergency_contact: String,
    #[serde(default)]
    pub email: String,
    /// From which day (YYYY-MM-DD; 2026/4/1 and full-width digits are taken).
    #[serde(default)]
    pub effective_from: String,
}

/// A submission about one office or gateway site.
fn for_location<'a>(
    org_id: Uuid,
    loc: &LocationRow,
    kind: &'a str,
    data: serde_json::Value,
    revision: i64,
    by: Uuid,
) -> db::submissions::NewSubmission<'a> {
    db::submissions::NewSubmission {
        org_id,
        kind,
        scope_kind: loc.scope_kind(),
        location_id: Some(loc.id),
        data,
        catalogue_revision: revision,
        submitted_by: by,
    }
}

/// An appointment as typed, checked (errors by field).
pub fn checked(input: &AppointInput) -> Result<NewAppointment, Error> {
    let mut e = FieldErrors::default();
    let name = e.take("name", text(&input.name, 100, true));
    let name_kana = e.take("name_kana", kana(&input.name_kana, 100, true));
    let department = e.take("department", text(&input.department, 100, true));
    let title = e.take("title", text(&input.title, 100, false));
    let tel = e.take("phone", phone_number(&input.phone, true));
    let emergency = e.take(
        "emergency_contact",
        phone_number(&input.emergency_contact, false),
    );
    let email = e.take("email", Email::parse(&input.email));
    let from = e.take("effective_from", date(&input.effective_from));
    let (
        Some(name),
        Some(name_kana),
        Some(department),
        Some(title),
        Some(phone),
        Some(emergency_contact),
        Some(email),
        Some(effective_from),
    ) = (
        name, name_kana, department, title, tel, emergency, email, from,
    )
    else {
        return Err(Error::Invalid(e));
    };
    Ok(NewAppointment {
        name,
        name_kana,
        department,
        title,
        phone,
        emergency_contact,
        email: email.to_string(),
        effective_from,
    })
}

/// What a sealed `administrator` report holds: the appointment as checked and its place
/// (the appointment's own id joins when it is recorded, at the seal).
pub fn report_data(a: &NewAppointment, loc: &LocationRow) -> Result<serde_json::Value, Error> {
    let mut data = serde_json::to_value(a).map_err(anyhow::Error::from)?;
    data["location"] = serde_json::json!({ "id": loc.id, "kind": loc.kind, "name": loc.name });
    Ok(data)
}

/// Whether two names are one person's, as typed: spaces (half- or full-width) aside.
fn same_person(a: &str, b: &str) -> bool {
    let bare = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
    bare(a) == bare(b)
}

/// What the appointment stands after: the location's administrator on its first day, as
/// `("predecessor", …)` when that is another person (named in the report so that the Center
/// reads the change of person), or as `("corrects", …)` when it is the same person (a notice
/// that corrects their details: the report keeps what it corrects, to show what changed).
pub async fn predecessor(
    app: &App,
    org_id: Uuid,
    location: Uuid,
    a: &NewAppointment,
) -> Result<Option<(&'static str, serde_json::Value)>, Error> {
    let Some(b) = db::appointments::on_date(&app.db, org_id, location, a.effective_from).await?
    else {
        return Ok(None);
    };
    // The receipt of the notice it follows, so that the Center finds the one it corrects.
    let receipt = super::reads::notices(app, org_id, location)
        .await?
        .remove(&b.id.to_string())
        .map(|n| n.receipt_no);
    let (key, mut before) = if same_person(&b.name, &a.name) {
        (
            "corrects",
            serde_json::json!({
                "name": b.name,
                "name_kana": b.name_kana,
                "department": b.department,
                "title": b.title,
                "phone": b.phone,
                "emergency_contact": b.emergency_contact,
                "email": b.email,
                "effective_from": b.effective_from,
            }),
        )
    } else {
        (
            "predecessor",
            serde_json::json!({
                "name": b.name,
                "department": b.department,
                "effective_from": b.effective_from,
            }),
        )
    };
    if let Some(r) = receipt {
        before["receipt_no"] = serde_json::json!(r);
    }
    Ok(Some((key, before)))
}

/// The audit detail of a recorded appointment: where, whom, from when and whom it replaces.
pub fn audit_detail(
    data: &serde_json::Value,
    location: Uuid,
    appointment: Uuid,
) -> serde_json::Value {
    serde_json::json!({
        "location": location,
        "appointment": appointment,
        "administrator": data["name"],
        "effective_from": data["effective_from"],
        "predecessor": data["predecessor"]["name"],
    })
}

/// Records the appointment of an active location's administrator and notifies the Center
/// with a sealed submission, in one transaction; answers the submission (its receipt follows).
pub async fn appoint(
    app: &App,
    actor: &Actor,
    org_id: Uuid,
    location: Uuid,
    input: AppointInput,
) -> Result<Uuid, Error> {
    match appoint_step(app, actor, org_id, location, input, Step::Submit(None)).await? {
        Stepped::Sealed(id) => Ok(id),
        Stepped::Preview(_) => Err(Error::NotFound),
    }
}

/// [`appoint`] one step at a time: checked and shown first (確認), then recorded and sealed.
pub async fn appoint_step(
    app: &App,
    actor: &Actor,
    org_id: Uuid,
    location: Uuid,
    input: AppointInput,
    step: Step,
) -> Result<Stepped, Error> {
    let (_, loc) = location_for(app, actor, org_id, location, true).await?;
    if !loc.active {
        return Err(Error::Conflict("error.conflict.body"));
    }
    let a = checked(&input)?;
    let mut data = report_data(&a, &loc)?;
    if let Some((key, before)) = predecessor(app, org_id, loc.id, &a).await? {
        data[key] = before;
    }
    let key = match step {
        Step::Preview => {
            no_revision_open(app, org_id, "administrator", Some(loc.id)).await?;
            return Ok(Stepped::Preview(data));
        }
        Step::Submit(key) => key,
    };
    let catalogue = app.catalogue().await?;
    let mut tx = app.db.begin().await?;
    let appointment = db::appointments::insert(&mut tx, org_id, location, &a, actor.id).await?;
    data["appointment_id"] = serde_json::json!(appointment);
    let detail = audit_detail(&data, location, appointment);
    let (submission, mail) = crate::app::submissions::insert_sealed(
        &mut tx,
        app,
        &for_location(
            org_id,
            &loc,
            "administrator",
            data,
            catalogue.revision,
            actor.id,
        ),
        key,
    )
    .await?;
    let mut entry = actor.audit("appointment.notified", Some(org_id), submission.to_string());
    entry.detail = detail;
    db::audit::append(&mut tx, &entry).await?;
    tx.commit().await?;
    mail.send(app);
    Ok(Stepped::Sealed(submission))
}

/// The three statements of §7.4.2(1), each a checkbox.
pub const ROUTER_CHECKS: [&str; 3] = ["lan_dedicated", "wan_unused", "console_unused"];

/// What a sealed `router_ports` report of a location holds: every statement confirmed (else
/// errors `router.{statement}`), with the location's active NACCS routers (none: no connection
/// is recorded there, `_form` error `router.no_connection`).
pub async fn router_data(
    app: &App,
    org_id: Uuid,
    loc: &LocationRow,
    confirmed: &[&str],
) -> Result<serde_json::Value, Error> {
    let mut errors = FieldErrors::default();
    for c in ROUTER_CHECKS {
        if !confirmed.contains(&c) {
            errors.add(format!("router.{c}"), "error.attest_each");
        }
    }
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    let connections: Vec<_> = db::structure::connections(&app.db, Some(org_id))
        .await?
        .into_iter()
        .filter(|c| c.active && c.location_id == loc.id)
        .collect();
    // No connection recorded, no router whose ports could be attested.
    if connections.is_empty() {
        return Err(Error::field("_form", "router.no_connection"));
    }
    let routers: Vec<String> = connections
        .into_iter()
        .map(|c| c.router_id)
        .filter(|r| !r.is_empty())
        .collect();
    Ok(serde_json::json!({
        "location": { "id": loc.id, "kind": loc.kind, "name": loc.name },
        "routers": routers,
        "lan_dedicated": true, "wan_unused": true, "console_unused": true,
    }))
}

/// Attests §7.4.2(1) for an active location's NACCS router (LAN port for NACCS only, WAN port
/// unused, nothing on the console port) and submits it sealed; every statement must be
/// confirmed (errors `router.{statement}`). Answers the submission.
pub async fn attest_router(
    app: &App,
    actor: &Actor,
    org_id: Uuid,
    location: Uuid,
    confirmed: &[&str],
) -> Result<Uuid, Error> {
    match attest_router_step(app, actor, org_id, location, confirmed, Step::Submit(None)).await? {
        Stepped::Sealed(id) => Ok(id),
        Stepped::Preview(_) => Err(Error::NotFound),
    }
}

/// [`attest_router`] one step at a time: checked and shown first (確認), then sealed.
pub async fn attest_router_step(
    app: &App,
    actor: &Actor,
    org_id: Uuid,
    location: Uuid,
    confirmed: &[&str],
    step: Step,
) -> Result<Stepped, Error> {
    let (_, loc) = location_for(app, actor, org_id, location, false).await?;
    if !actor.holds(&REPORTERS) {
        return Err(Error::Forbidden);
    }
    if !loc.active {
        return Err(Error::Conflict("error.conflict.body"));
    }
    let data = router_data(app, org_id, &loc, confirmed).await?;
    let key = match step {
        Step::Preview => {
            no_revision_open(app, org_id, "router_ports", Some(loc.id)).await?;
            return Ok(Stepped::Preview(data));
        }
        Step::Submit(key) => key,
    };
    let catalogue = app.catalogue().await?;
    let mut tx = app.db.begin().await?;
    let (sid, mail) = crate::app::submissions::insert_sealed(
        &mut tx,
        app,
        &for_location(
            org_id,
            &loc,
            "router_ports",
            data,
            catalogue.revision,
            actor.id,
        ),
        key,
    )
    .await?;
    db::audit::append(
        &mut tx,
        &actor.audit("router.attested", Some(org_id), sid.to_string()),
    )
    .await?;
    tx.commit().await?;
    mail.send(app);
    Ok(Stepped::Sealed(sid))
}
