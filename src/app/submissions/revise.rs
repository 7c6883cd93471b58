//! Revising a returned submission (差戻し後の修正): version N+1 opens as a draft of the same
//! series (data and files copied), is corrected on its page, goes through the 確認 step and is
//! sealed; the reviewer of version N gets it. The reports drafted per place take their own
//! pages; the forms sealed in one step (item 1 管理責任者, item 2 ID 管理, §7.4.2(1) router
//! ports) are drafted only this way, on the revision page.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Place, ReportKind, reporting_org};
use crate::app::id_management::{self, IdDeclaration};
use crate::app::structure::appointments::{self, AppointInput};
use crate::app::structure::{self, location_for};
use crate::app::{Actor, App, Error};
use crate::db;
use crate::db::appointments::NewAppointment;
use crate::db::review::Revised;
use crate::db::submissions::SubmissionRow;
use crate::domain::Scope;

/// A kind sealed straight from its form (items 1, 2 and §7.4.2(1)); drafted only as the
/// revision of a returned one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FormKind {
    /// 管理責任者の設置 (item 1), per office or gateway site
    Administrator,
    /// ID・パスワードの管理 (item 2), for the organisation
    IdManagement,
    /// NACCS 接続ルータのポート (§7.4.2(1)), per office or gateway site
    RouterPorts,
}

impl FormKind {
    /// The stored word.
    pub fn as_str(self) -> &'static str {
        match self {
            FormKind::Administrator => "administrator",
            FormKind::IdManagement => "id_management",
            FormKind::RouterPorts => "router_ports",
        }
    }

    /// From the stored word.
    pub fn parse(s: &str) -> Option<FormKind> {
        [
            FormKind::Administrator,
            FormKind::IdManagement,
            FormKind::RouterPorts,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }

    /// Whether it takes an org admin (or a Center admin), as its form does; any reporter
    /// attests a router.
    pub fn needs_editor(self) -> bool {
        self != FormKind::RouterPorts
    }
}

/// What a draft is: the report of a place, or the revision of a form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Drafted {
    Report(Place),
    Form(FormKind),
}

impl Drafted {
    /// What a stored submission of the organisation is (`None`: no kind we draft).
    pub fn of(s: &SubmissionRow) -> Option<Drafted> {
        if let Some(kind) = ReportKind::parse(&s.kind) {
            return Some(Drafted::Report(Place {
                org: s.org_id,
                kind,
                site: s.location_id.filter(|_| kind.per_site()),
            }));
        }
        FormKind::parse(&s.kind).map(Drafted::Form)
    }

    /// The stored word of the kind.
    pub fn kind(&self) -> &'static str {
        match self {
            Drafted::Report(p) => p.kind.as_str(),
            Drafted::Form(k) => k.as_str(),
        }
    }
}

/// Checks the actor may draft this for the organisation (a form kind as its form requires).
pub async fn may_draft(
    app: &App,
    actor: &Actor,
    org_id: Uuid,
    what: &Drafted,
) -> Result<(), Error> {
    reporting_org(app, actor, org_id).await?;
    if matches!(what, Drafted::Form(k) if k.needs_editor()) && !structure::can_edit(actor) {
        return Err(Error::Forbidden);
    }
    Ok(())
}

/// Whether the actor may revise a returned submission of this kind (for showing the button).
pub fn may_revise(actor: &Actor, org_id: Uuid, kind: &str) -> bool {
    let editor = match (ReportKind::parse(kind), FormKind::parse(kind)) {
        (Some(_), _) => false,
        (None, Some(k)) => k.needs_editor(),
        (None, None) => return false,
    };
    super::may_report(actor, org_id) && (!editor || structure::can_edit(actor))
}

/// What [`revise`] did.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Revision {
    /// The draft of the next version (or the draft already open for that place).
    pub draft: Uuid,
    pub what: Drafted,
    /// `false` when a draft of that kind and place was open already: that one is answered
    /// and nothing was copied.
    pub revising: bool,
}

/// Opens version N+1 of a returned submission of the organisation as a draft (data and
/// files copied), audited; a repeated call answers the version the first one opened.
pub async fn revise(app: &App, actor: &Actor, org_id: Uuid, id: Uuid) -> Result<Revision, Error> {
    reporting_org(app, actor, org_id).await?;
    let s = db::submissions::get(&app.db, Scope::Org(org_id), id)
        .await?
        .ok_or(Error::NotFound)?;
    let what = Drafted::of(&s).ok_or(Error::NotFound)?;
    may_draft(app, actor, org_id, &what).await?;
    let mut tx = app.db.begin().await?;
    let (draft, revising) = match db::review::revise(&mut tx, org_id, id).await? {
        Revised::Opened(draft) => {
            let mut entry = actor.audit("submission.revised", Some(org_id), draft.to_string());
            entry.detail = serde_json::json!({ "from": id, "kind": s.kind });
            db::audit::append(&mut tx, &entry).await?;
            tx.commit().await?;
            (draft, true)
        }
        Revised::Already(draft) => (draft, true),
        Revised::DraftOpen(draft) => (draft, false),
        Revised::NotReturned => return Err(Error::Conflict("error.conflict.body")),
    };
    Ok(Revision {
        draft,
        what,
        revising,
    })
}

/// The revision of a form, open for correcting.
#[derive(Debug, Clone)]
pub struct FormDraft {
    pub draft: SubmissionRow,
    pub kind: FormKind,
    /// The content as it stands (the returned version's until saved).
    pub data: serde_json::Value,
}

/// A form's revision as its page shows it; `None` once it is no longer a draft (sealed: its
/// receipt is the place to go).
pub async fn form_draft(
    app: &App,
    actor: &Actor,
    org_id: Uuid,
    id: Uuid,
) -> Result<Option<FormDraft>, Error> {
    reporting_org(app, actor, org_id).await?;
    let s = db::submissions::get(&app.db, Scope::Org(org_id), id)
        .await?
        .ok_or(Error::NotFound)?;
    let kind = FormKind::parse(&s.kind).ok_or(Error::NotFound)?;
    may_draft(app, actor, org_id, &Drafted::Form(kind)).await?;
    if s.state != "draft" {
        return Ok(None);
    }
    Ok(Some(FormDraft {
        data: serde_json::from_str(&s.data).unwrap_or_default(),
        kind,
        draft: s,
    }))
}

/// A form as corrected on the revision page.
#[derive(Debug, Clone)]
pub enum FormInput {
    Appointment(AppointInput),
    Declaration(IdDeclaration),
    /// The statements ticked.
    Router(Vec<String>),
}

/// The location a form's revision is about: of the organisation and active (a closed one
/// takes no new report).
async fn place_of(
    app: &App,
    actor: &Actor,
    org_id: Uuid,
    draft: &SubmissionRow,
    write: bool,
) -> Result<db::structure::LocationRow, Error> {
    let location = draft.location_id.ok_or(Error::NotFound)?;
    let (_, loc) = location_for(app, actor, org_id, location, write).await?;
    if !loc.active {
        return Err(Error::Conflict("error.conflict.body"));
    }
    Ok(loc)
}

/// Checks a corrected form as its own form checks it and saves it into the revision
/// (only while it is a draft: else a conflict), audited. Errors by field, as the form's.
pub async fn save_form(
    app: &App,
    actor: &Actor,
    org_id: Uuid,
    id: Uuid,
    input: FormInput,
) -> Result<(), Error> {
    let open = form_draft(app, actor, org_id, id)
        .await?
        .ok_or(Error::Conflict("error.conflict.body"))?;
    let data = match (open.kind, input) {
        (FormKind::Administrator, FormInput::Appointment(input)) => {
            let loc = place_of(app, actor, org_id, &open.draft, true).await?;
            let mut data = appointments::report_data(&appointments::checked(&input)?, &loc)?;
            // The person replaced (or the notice corrected) is the returned notice's: its own
            // appointment is on record by now, so it cannot be looked up again.
            let before: serde_json::Value =
                serde_json::from_str(&open.draft.data).unwrap_or_default();
            for key in ["predecessor", "corrects"] {
                if before[key].is_object() {
                    data[key] = before[key].clone();
                }
            }
            data
        }
        (FormKind::IdManagement, FormInput::Declaration(mut input)) => {
            input.org = org_id;
            id_management::declaration_data(app, &input).await?
        }
        (FormKind::RouterPorts, FormInput::Router(ticked)) => {
            let loc = place_of(app, actor, org_id, &open.draft, false).await?;
            let ticked: Vec<&str> = ticked.iter().map(String::as_str).collect();
            appointments::router_data(app, org_id, &loc, &ticked).await?
        }
        _ => return Err(Error::NotFound),
    };
    let mut tx = app.db.begin().await?;
    if !db::submissions::save_draft(&mut tx, org_id, id, &data).await? {
        return Err(Error::Conflict("error.conflict.body"));
    }
    let mut entry = actor.audit("submission.draft_saved", Some(org_id), id.to_string());
    entry.detail = serde_json::json!({ "kind": open.kind.as_str() });
    db::audit::append(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(())
}

/// A form's revision checked before it is sealed (its place still open, its content whole);
/// answers the seal's audit detail.
pub async fn check(
    app: &App,
    actor: &Actor,
    kind: FormKind,
    draft: &SubmissionRow,
) -> Result<serde_json::Value, Error> {
    let data: serde_json::Value = serde_json::from_str(&draft.data).unwrap_or_default();
    match kind {
        FormKind::Administrator => {
            place_of(app, actor, draft.org_id, draft, true).await?;
            serde_json::from_value::<NewAppointment>(data)
                .map_err(|_| Error::field("_form", "confirm.invalid"))?;
        }
        FormKind::RouterPorts => {
            place_of(app, actor, draft.org_id, draft, false).await?;
        }
        FormKind::IdManagement => {
            if data["attested"] != true {
                return Err(Error::field("attest", "error.attest_required"));
            }
        }
    }
    Ok(serde_json::json!({ "location": draft.location_id }))
}

/// What sealing a draft of `kind` does besides sealing it, in the sealing transaction once
/// the draft is locked (`data`: its content as locked): a revised appointment is recorded
/// as the location's appointment (the newest of its day) and named in the sealed content,
/// audited as every appointment is. Nothing for the other kinds.
pub async fn before_seal(
    tx: &mut db::Tx,
    actor: &Actor,
    org_id: Uuid,
    draft: Uuid,
    kind: &str,
    data: &str,
) -> Result<(), Error> {
    if kind != FormKind::Administrator.as_str() {
        return Ok(());
    }
    let mut data: serde_json::Value =
        serde_json::from_str(data).map_err(|_| Error::field("_form", "confirm.invalid"))?;
    let a: NewAppointment = serde_json::from_value(data.clone())
        .map_err(|_| Error::field("_form", "confirm.invalid"))?;
    let location = data["location"]["id"]
        .as_str()
        .and_then(|s| Uuid::parse_str(s).ok())
        .ok_or(Error::NotFound)?;
    let appointment = db::appointments::insert(tx, org_id, location, &a, actor.id).await?;
    data["appointment_id"] = serde_json::json!(appointment);
    if !db::submissions::save_draft(tx, org_id, draft, &data).await? {
        return Err(Error::Conflict("error.conflict.body"));
    }
    let mut entry = actor.audit("appointment.notified", Some(org_id), draft.to_string());
    entry.detail = appointments::audit_detail(&data, location, appointment);
    db::audit::append(tx, &entry).await?;
    Ok(())
}
