//! Item 2 — ID・パスワードの管理: the organisation's declaration that its administrators manage
//! every NACCS ID, the 利用者ID in use per office, and away-from-office use (telework,
//! satellite office, disaster), submitted sealed to the Center.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::structure::org_for;
use super::submissions::{Step, Stepped};
use super::{Actor, App, Error, FieldErrors};
use crate::db;
use crate::domain::input::date;
use crate::domain::{NaccsId, ScopeKind};

/// Reasons for using IDs away from the contracted offices.
pub const REASONS: [&str; 4] = ["telework", "satellite", "disaster", "other"];

/// The most away-from-office rows one declaration holds.
pub const MAX_ROWS: usize = 30;

/// The IDs of one office, as typed (separated by spaces, line breaks or commas).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct OfficeIdsInput {
    pub office: Uuid,
    #[serde(default)]
    pub ids: String,
}

/// One away-from-office use, as typed; `n` numbers it for the messages (`away_{n}_{field}`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AwayInput {
    #[serde(default)]
    pub n: usize,
    #[serde(default)]
    pub place: String,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub ids: String,
    /// The office whose administrator manages these IDs.
    #[serde(default)]
    pub office: String,
}

impl AwayInput {
    /// Row `n` of a posted form (`away_{n}_{field}`), as typed; the ID-management form and
    /// its revision post the same fields.
    pub fn posted(fields: &std::collections::HashMap<String, String>, n: usize) -> AwayInput {
        let get = |f: &str| {
            fields
                .get(&format!("away_{n}_{f}"))
                .cloned()
                .unwrap_or_default()
        };
        AwayInput {
            n,
            place: get("place"),
            reason: get("reason"),
            from: get("from"),
            to: get("to"),
            ids: get("ids"),
            office: get("office"),
        }
    }
}

impl AwayInput {
    /// Whether nothing was typed.
    pub fn is_blank(&self) -> bool {
        [&self.place, &self.from, &self.to, &self.ids]
            .iter()
            .all(|s| s.trim().is_empty())
    }
}

/// What [`declare`] takes. Errors name `attest`, `ids_{office}`, `away_{n}_{field}` and
/// `_form` (no IDs at all, or no office yet).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct IdDeclaration {
    pub org: Uuid,
    #[serde(default)]
    pub attested: bool,
    #[serde(default)]
    pub offices: Vec<OfficeIdsInput>,
    #[serde(default)]
    pub away: Vec<AwayInput>,
}

/// IDs as typed, one by one.
pub fn split_ids(raw: &str) -> Vec<&str> {
    raw.split(|c: char| c.is_whitespace() || c == ',' || c == '、' || c == '，')
        .filter(|s| !s.is_empty())
        .collect()
}

/// What a sealed `id_management` report holds: the declaration as checked against the
/// organisation's active offices, user codes and administrators (errors by field).
pub async fn declaration_data(
    app: &App,
    input: &IdDeclaration,
) -> Result<serde_json::Value, Error> {
    let org_id = input.org;
    let codes: HashSet<String> = db::orgs::codes(&app.db, org_id)
        .await?
        .into_iter()
        .collect();
    let locations = db::structure::list(&app.db, Some(org_id)).await?;
    let offices: Vec<_> = locations
        .iter()
        .filter(|l| l.active && l.scope_kind() == ScopeKind::Office)
        .collect();
    let mut errors = FieldErrors::default();
    if !input.attested {
        errors.add("attest", "error.attest_required");
    }
    // Each ID with the office it was first listed under (an ID belongs to one office).
    let mut seen: HashMap<String, Uuid> = HashMap::new();
    let mut per_office = vec![];
    for o in &offices {
        let field = format!("ids_{}", o.id);
        let typed = input
            .offices
            .iter()
            .find(|i| i.office == o.id)
            .map(|i| i.ids.as_str())
            .unwrap_or("");
        let mut ids = vec![];
        for raw in split_ids(typed) {
            match NaccsId::parse(raw) {
                Err(k) => errors.add_named(field.clone(), k, &shown(raw)),
                Ok(id) if !codes.contains(id.user_code()) => {
                    errors.add_named(field.clone(), "error.user_id_other_code", id.as_str())
                }
                Ok(id) => match seen.get(id.as_str()) {
                    Some(at) if *at == o.id => {
                        errors.add_named(field.clone(), "error.user_id_duplicate", id.as_str())
                    }
                    // Said under both offices: either list may be the one to correct.
                    Some(at) => {
                        let first = format!("ids_{at}");
                        errors.add_named(first, "error.user_id_other_office", id.as_str());
                        errors.add_named(field.clone(), "error.user_id_other_office", id.as_str())
                    }
                    None => {
                        seen.insert(id.as_str().to_string(), o.id);
                        ids.push(id.as_str().to_string())
                    }
                },
            }
        }
        per_office
            .push(serde_json::json!({ "office_id": o.id, "office_name": o.name, "ids": ids }));
    }
    if seen.is_empty()
        && offices
            .iter()
            .all(|o| errors.get(&format!("ids_{}", o.id)).is_none())
    {
        errors.add(
            "_form",
            if offices.is_empty() {
                "error.no_offices"
            } else {
                "error.no_ids"
            },
        );
    }
    let today = crate::domain::dates::today();
    let mut away = vec![];
    for r in input.away.iter().filter(|r| !r.is_blank()).take(MAX_ROWS) {
        let n = r.n;
        let f = |name: &str| format!("away_{n}_{name}");
        let place = errors.take(
            f("place"),
            if r.place.trim().is_empty() {
                Err("error.required")
            } else if r.place.chars().count() > 200 {
                Err("error.too_long")
            } else {
                Ok(r.place.trim().to_string())
            },
        );
        if !REASONS.contains(&r.reason.as_str()) {
            errors.add(f("reason"), "error.reason_invalid");
        }
        let from = errors.take(f("from"), date(&r.from));
        let to = errors.take(f("to"), date(&r.to));
        if let (Some(a), Some(b)) = (from, to)
            && b < a
        {
            errors.add(f("to"), "error.to_before_from");
        }
        let mut ids = vec![];
        for raw in split_ids(&r.ids) {
            match NaccsId::parse(raw) {
                Err(k) => errors.add_named(f("ids"), k, &shown(raw)),
                Ok(id) if !seen.contains_key(id.as_str()) => {
                    errors.add_named(f("ids"), "error.user_id_not_declared", id.as_str())
                }
                Ok(id) => ids.push(id.as_str().to_string()),
            }
        }
        if ids.is_empty() {
            errors.add(f("ids"), "error.required");
        }
        let office = Uuid::parse_str(r.office.trim())
            .ok()
            .and_then(|id| offices.iter().find(|o| o.id == id));
        let administrator = match office {
            None => {
                errors.add(f("office"), "error.managing_office_required");
                None
            }
            Some(o) => db::appointments::on_date(&app.db, org_id, o.id, today)
                .await?
                .map(|a| a.name),
        };
        away.push(serde_json::json!({
            "place": place, "reason": r.reason, "from": from.map(|d| d.to_string()), "to": to.map(|d| d.to_string()),
            "ids": ids, "managing_office_id": office.map(|o| o.id), "managing_office_name": office.map(|o| o.name.clone()),
            "administrator": administrator,
        }));
    }
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    Ok(serde_json::json!({ "attested": true, "offices": per_office, "away": away }))
}

/// Checks the declaration and submits it sealed (an org admin of the organisation or a
/// Center admin), with its audit entry; answers the submission (its receipt follows).
pub async fn declare(app: &App, actor: &Actor, input: IdDeclaration) -> Result<Uuid, Error> {
    match declare_step(app, actor, input, Step::Submit(None)).await? {
        Stepped::Sealed(id) => Ok(id),
        Stepped::Preview(_) => Err(Error::NotFound),
    }
}

/// [`declare`] one step at a time: checked and shown first (確認), then sealed.
pub async fn declare_step(
    app: &App,
    actor: &Actor,
    input: IdDeclaration,
    step: Step,
) -> Result<Stepped, Error> {
    let org_id = input.org;
    org_for(app, actor, org_id, true).await?;
    let data = declaration_data(app, &input).await?;
    let key = match step {
        Step::Preview => {
            super::submissions::no_revision_open(app, org_id, "id_management", None).await?;
            return Ok(Stepped::Preview(data));
        }
        Step::Submit(key) => key,
    };
    let catalogue = app.catalogue().await?;
    let mut tx = app.db.begin().await?;
    let (id, mail) = crate::app::submissions::insert_sealed(
        &mut tx,
        app,
        &db::submissions::NewSubmission {
            org_id,
            kind: "id_management",
            scope_kind: ScopeKind::Organisation,
            location_id: None,
            data,
            catalogue_revision: catalogue.revision,
            submitted_by: actor.id,
        },
        key,
    )
    .await?;
    db::audit::append(
        &mut tx,
        &actor.audit("id_management.submitted", Some(org_id), id.to_string()),
    )
    .await?;
    tx.commit().await?;
    mail.send(app);
    Ok(Stepped::Sealed(id))
}

/// What the declaration page starts from: the organisation's locations, its user codes and
/// its newest declaration with its content.
#[derive(Debug)]
pub struct Declared {
    pub locations: Vec<super::structure::reads::LocationRow>,
    pub codes: Vec<String>,
    pub latest: Option<super::submissions::forms::LatestRow>,
    /// The newest declaration's content (`Null` before the first).
    pub previous: serde_json::Value,
}

/// The declaration page's reads for an organisation in the actor's scope.
pub async fn declared(app: &App, actor: &Actor, org_id: Uuid) -> Result<Declared, Error> {
    let locations = super::structure::reads::locations(app, actor, org_id).await?;
    let newest = super::submissions::forms::newest(app, actor, org_id, "id_management").await?;
    let (latest, previous) = match newest {
        Some((l, data)) => (Some(l), data),
        None => (None, serde_json::Value::Null),
    };
    Ok(Declared {
        locations,
        codes: db::orgs::codes(&app.db, org_id).await?,
        latest,
        previous,
    })
}

/// A refused entry as its message names it: at most 20 characters of what was typed.
fn shown(raw: &str) -> String {
    raw.chars().take(20).collect()
}
