//! Submissions (提出): an organisation's reports to the Center. A draft is opened (at most one
//! per kind and place), filled with typed rows and files, and sealed on submit with a receipt
//! number (受付番号); a returned one is revised as the next version.

pub mod configuration;
pub mod confirm;
pub mod discard;
pub mod forms;
pub mod history;
pub mod reads;
pub mod renewal;
pub mod revise;
pub mod upload;

pub use revise::{Drafted, FormKind, Revision, revise};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::notify::{Notice, Pending, To, notify};
use super::{Actor, App, Error, FieldErrors};
use crate::db;
use crate::db::orgs::OrgRow;
use crate::db::submissions::{NewSubmission, Opened};
use crate::domain::{Role, Scope, ScopeKind, flags};

/// The roles that draft and submit reports (a Center admin acts for an organisation).
pub const REPORTERS: [Role; 3] = [Role::OrgAdmin, Role::OrgMember, Role::CenterAdmin];

/// A kind of report drafted by an organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportKind {
    /// システム構成 (item 4)
    SystemConfiguration,
    /// 外部接続 (§7.4.2(2))
    OutsideConnections,
    /// ウィルス対策 (item 3)
    Antivirus,
    /// 社内対策
    InhouseMeasures,
    /// ゲートウェイのログ (Table 7-4-2), one per gateway site
    GatewayLogs,
}

impl ReportKind {
    /// Every kind, in the checklist's order.
    pub const ALL: [ReportKind; 5] = [
        ReportKind::SystemConfiguration,
        ReportKind::OutsideConnections,
        ReportKind::Antivirus,
        ReportKind::InhouseMeasures,
        ReportKind::GatewayLogs,
    ];

    /// The stored word.
    pub fn as_str(self) -> &'static str {
        match self {
            ReportKind::SystemConfiguration => "system_configuration",
            ReportKind::OutsideConnections => "outside_connections",
            ReportKind::Antivirus => "antivirus",
            ReportKind::InhouseMeasures => "inhouse_measures",
            ReportKind::GatewayLogs => "gateway_logs",
        }
    }

    /// From the stored word.
    pub fn parse(s: &str) -> Option<ReportKind> {
        ReportKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Whether a report of this kind is made per gateway site (else for the organisation).
    pub fn per_site(self) -> bool {
        self == ReportKind::GatewayLogs
    }

    /// Whether a new draft of this kind starts from the place's last accepted report (every
    /// kind but the gateway logs, which are the logs of a new period each time).
    pub fn renews(self) -> bool {
        self != ReportKind::GatewayLogs
    }

    /// The Center asks for this kind by a request (7.4.5 and 7.4.6).
    pub fn requested_by_center(self) -> bool {
        crate::app::followup::REQUESTABLE.contains(&self.as_str())
    }

    /// The file roles this kind takes.
    pub fn file_roles(self) -> &'static [&'static str] {
        match self {
            ReportKind::SystemConfiguration => &["diagram", "equipment_list"],
            ReportKind::OutsideConnections => &["diagram"],
            ReportKind::InhouseMeasures => &["evidence"],
            ReportKind::GatewayLogs => &["logs"],
            ReportKind::Antivirus => &[],
        }
    }
}

/// The organisation a report is drafted for: in the actor's scope, and the actor one who
/// reports (a reviewer reads but never drafts).
pub async fn reporting_org(app: &App, actor: &Actor, org_id: Uuid) -> Result<OrgRow, Error> {
    let org = super::structure::org_for(app, actor, org_id, false).await?;
    if !actor.holds(&REPORTERS) {
        return Err(Error::Forbidden);
    }
    Ok(org)
}

/// Whether the actor may draft reports for the organisation (for showing the forms).
pub fn may_report(actor: &Actor, org_id: Uuid) -> bool {
    actor.holds(&REPORTERS) && (actor.role.is_center() || actor.org_id == Some(org_id))
}

/// Where a draft belongs: its organisation, kind and (for per-site kinds) gateway site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Place {
    pub org: Uuid,
    pub kind: ReportKind,
    /// The gateway site (`None`: the organisation).
    pub site: Option<Uuid>,
}

impl Place {
    /// The organisation's own report of a kind.
    pub fn org(org: Uuid, kind: ReportKind) -> Place {
        Place {
            org,
            kind,
            site: None,
        }
    }
}

/// Checks that a per-site kind names a place of the organisation that keeps gateway logs (a
/// gateway site, or an office with a gateway connection), and that an organisation-wide kind
/// names none.
async fn check_place(app: &App, place: &Place) -> Result<(), Error> {
    match (place.kind.per_site(), place.site) {
        (false, None) => Ok(()),
        (false, Some(_)) => Err(Error::field("site", "error.kind_invalid")),
        (true, None) => Err(Error::field("site", "error.required")),
        (true, Some(site)) => super::gateway_logs::log_place(app, place.org, site)
            .await
            .map(|_| ()),
    }
}

/// The open draft of a place, created when there is none (one atomic "get or create" in the
/// database). The caller has checked the actor may report for the organisation.
pub async fn draft_at(app: &App, actor: &Actor, place: &Place) -> Result<Uuid, Error> {
    Ok(draft_or_create(app, actor, place).await?.id())
}

/// [`draft_at`], also answering whether the draft was created now (and then the accepted
/// report it starts from, if any).
async fn draft_or_create(app: &App, actor: &Actor, place: &Place) -> Result<Opened, Error> {
    let kind = place.kind.as_str();
    if let Some(d) = db::submissions::draft(&app.db, place.org, kind, place.site).await? {
        return Ok(Opened::Open(d.id));
    }
    let revision = app.catalogue().await?.revision;
    let scope_kind = match place.site {
        Some(site) => db::structure::get(&app.db, place.org, site)
            .await?
            .ok_or(Error::NotFound)?
            .scope_kind(),
        None => ScopeKind::Organisation,
    };
    let new = NewSubmission {
        org_id: place.org,
        kind,
        scope_kind,
        location_id: place.site,
        data: serde_json::json!({}),
        catalogue_revision: revision,
        submitted_by: actor.id,
    };
    // A draft sealed between our insert and our read is the only way to get `None`: try
    // again, then give up with a conflict rather than loop.
    for _ in 0..3 {
        let mut tx = app.db.begin().await?;
        let opened = db::submissions::open_draft(&mut tx, &new, place.kind.renews()).await?;
        if let Some(Opened::Created { id, renewed_from }) = opened {
            let mut entry = actor.audit("submission.draft_opened", Some(place.org), id.to_string());
            entry.detail = serde_json::json!({
                "kind": kind, "site": place.site, "renewed_from": renewed_from,
            });
            db::audit::append(&mut tx, &entry).await?;
        }
        tx.commit().await?;
        if let Some(opened) = opened {
            return Ok(opened);
        }
    }
    Err(Error::Conflict("error.conflict.body"))
}

/// An open draft.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Draft {
    pub id: Uuid,
    pub place: Place,
    /// Whether it was opened by this call (else it was open already).
    pub created: bool,
}

/// Opens the draft of a place (or answers the one open already): "get or create" decided by
/// the database's unique index, so parallel calls share one draft. Audited when created; a
/// created draft starts from the place's last accepted report (see [`ReportKind::renews`]).
pub async fn open_draft(app: &App, actor: &Actor, place: Place) -> Result<Draft, Error> {
    reporting_org(app, actor, place.org).await?;
    check_place(app, &place).await?;
    let opened = draft_or_create(app, actor, &place).await?;
    Ok(Draft {
        id: opened.id(),
        place,
        created: matches!(opened, Opened::Created { .. }),
    })
}

/// Saves a draft's data (creating the draft if needed) with its audit entry; `detail` goes
/// with the entry.
pub async fn save_data(
    app: &App,
    actor: &Actor,
    place: &Place,
    data: &serde_json::Value,
    action: &'static str,
    detail: serde_json::Value,
) -> Result<Uuid, Error> {
    let draft = draft_at(app, actor, place).await?;
    let mut tx = app.db.begin().await?;
    if !db::submissions::save_draft(&mut tx, place.org, draft, data).await? {
        return Err(Error::Conflict("error.conflict.body"));
    }
    let mut entry = actor.audit(action, Some(place.org), draft.to_string());
    entry.detail = detail;
    // The item, so that the trail names the draft once it is sealed or discarded.
    if entry.detail.is_null() {
        entry.detail = serde_json::json!({});
    }
    if let Some(m) = entry.detail.as_object_mut() {
        m.entry("item").or_insert(place.kind.as_str().into());
    }
    db::audit::append(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(draft)
}

/// A sealed submission: its receipt.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Sealed {
    pub submission: Uuid,
    pub receipt_no: String,
    /// Whether it had been sealed already (a repeated submit): nothing was done now.
    pub already: bool,
}

/// Files the 到達通知 of a submission sealed in `tx`: an inbox entry for every user of the
/// organisation (as every notice to an organisation goes), with the receipt number, the item
/// and a link to the receipt; the mail goes through the outbox once `tx` commits. The
/// sender's own entry is filed as read: they have the receipt in front of them (their mail
/// still goes).
pub async fn arrival_notice(
    tx: &mut db::Tx,
    app: &App,
    (org_id, sender): (Uuid, Uuid),
    submission: Uuid,
    receipt_no: &str,
    kind: &str,
) -> Result<Pending, Error> {
    let catalogue = app.catalogue().await?;
    let link = format!("/orgs/{org_id}/submissions/{submission}/receipt");
    // The place tells one office's notice from another's.
    let place = db::submissions::place_name(tx, submission)
        .await?
        .unwrap_or_default();
    let item = |lang: &str| crate::i18n::paren(&catalogue.item_title(kind, lang), &place, lang);
    let pending = notify(
        tx,
        &app.config.base_url,
        To::Org(org_id),
        &Notice {
            kind: "received",
            message: "mail.received",
            args: vec![
                ("receipt", receipt_no.to_string()),
                ("item_ja", item("ja")),
                ("item_en", item("en")),
            ],
            link: link.clone(),
        },
    )
    .await?;
    db::notifications::read_by(tx, sender, &link).await?;
    Ok(pending)
}

/// The notice to the Center member who asked for a report (提出依頼) that it was submitted:
/// the organisation, the item, the receipt number and whether it came after the due date.
async fn answered_notice(
    tx: &mut db::Tx,
    app: &App,
    (org_id, submission): (Uuid, Uuid),
    receipt: &db::submissions::Receipt,
    kind: &str,
    to: Uuid,
) -> Result<Pending, Error> {
    let catalogue = app.catalogue().await?;
    let org = db::orgs::name_in(tx, org_id).await?.unwrap_or_default();
    Ok(notify(
        tx,
        &app.config.base_url,
        To::User(to),
        &Notice {
            kind: "answered",
            message: if receipt.late {
                "mail.request_answered_late"
            } else {
                "mail.request_answered"
            },
            args: vec![
                ("org", org),
                ("receipt", receipt.receipt_no.clone()),
                ("item_ja", catalogue.item_title(kind, "ja")),
                ("item_en", catalogue.item_title(kind, "en")),
            ],
            link: format!("/review/{submission}"),
        },
    )
    .await?)
}

/// How a form sealed in one step (items 1, 2 and §7.4.2(1)) is taken: first checked and
/// shown as it will be sent (確認), then sealed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Checked and answered as it would be sealed; nothing is written.
    Preview,
    /// Sealed. With the key its 確認 page carried ([`submit_key`]) the submission takes it as
    /// its id, so that a second click meets [`SEALED_ALREADY`] instead of sealing twice.
    Submit(Option<Uuid>),
}

/// What a one-step form came to.
#[derive(Debug, Clone)]
pub enum Stepped {
    /// The content it would be sealed with.
    Preview(serde_json::Value),
    /// The submission sealed.
    Sealed(Uuid),
}

/// Refuses a one-step form's 確認 while the revision of a returned one of that kind and place
/// is open (`_form`: `revise.draft_open`: that revision is what to submit), as the seal would.
pub async fn no_revision_open(
    app: &App,
    org_id: Uuid,
    kind: &str,
    location: Option<Uuid>,
) -> Result<(), Error> {
    match db::submissions::draft(&app.db, org_id, kind, location).await? {
        Some(_) => Err(Error::field("_form", "revise.draft_open")),
        None => Ok(()),
    }
}

/// The conflict of a seal whose key was sealed already (a second click): the submission with
/// that key is the one to show.
pub const SEALED_ALREADY: &str = "flash.already_submitted";

/// A posted 確認 key taken as the id of the submission it seals: a UUID v7 made by this
/// server's clock within the last day (anything else is ignored: the seal gets a new id).
pub fn submit_key(raw: &str) -> Option<Uuid> {
    let id = Uuid::parse_str(raw.trim()).ok()?;
    if id.get_version_num() != 7 {
        return None;
    }
    let (secs, _) = id.get_timestamp()?.to_unix();
    let age = chrono::Utc::now().timestamp() - i64::try_from(secs).ok()?;
    (-60..=86_400).contains(&age).then_some(id)
}

/// Creates and seals a submission in one step (the forms without a draft: items 1, 2 and
/// §7.4.2(1)) inside `tx`, with its 到達通知, as `key` when given; answers the submission and
/// the mail to send after commit. While the revision of a returned one of that place is
/// open, nothing is done (`_form`: `revise.draft_open`: that revision is what to submit); a
/// key this form (kind and place) sealed already is [`SEALED_ALREADY`] (nothing done: the
/// caller's transaction is to be dropped); a key any other submission holds is not used.
pub async fn insert_sealed(
    tx: &mut db::Tx,
    app: &App,
    new: &NewSubmission<'_>,
    key: Option<Uuid>,
) -> Result<(Uuid, Pending), Error> {
    let mut sealed = db::submissions::insert_submitted(tx, new, key).await?;
    if sealed.is_none()
        && let Some(k) = key
    {
        if db::submissions::sealed_as(tx, new, k).await? {
            return Err(Error::Conflict(SEALED_ALREADY));
        }
        // The key is another form's (two forms of one page, a key posted elsewhere): this
        // is no repeat, so it is sealed under an id of its own.
        sealed = db::submissions::insert_submitted(tx, new, None).await?;
    }
    let Some((id, receipt_no)) = sealed else {
        return Err(Error::field("_form", "revise.draft_open"));
    };
    // What its content tells the queue (a change of administrator, a correction).
    for flag in flags::of_content(
        new.kind,
        &new.data,
        crate::domain::dates::today(),
        app.config.av_stale_days,
    ) {
        db::submissions::add_flag(tx, id, flag).await?;
    }
    let mail = arrival_notice(
        tx,
        app,
        (new.org_id, new.submitted_by),
        id,
        &receipt_no,
        new.kind,
    )
    .await?;
    Ok((id, mail))
}

/// Seals a draft of the organisation with a receipt number and its audit entry; a draft
/// sealed meanwhile (a double click) answers that receipt with `already`. The 到達通知 goes
/// once, from the call that sealed it.
pub async fn seal(
    app: &App,
    actor: &Actor,
    org_id: Uuid,
    draft: Uuid,
    kind: ReportKind,
    detail: serde_json::Value,
) -> Result<Sealed, Error> {
    seal_as(app, actor, org_id, draft, kind.as_str(), detail, None).await
}

/// [`seal`], only when the draft still holds what was confirmed (`confirmed`: its
/// [`confirm::fingerprint`], checked under the draft's lock in the sealing transaction; else
/// [`confirm::CHANGED`] and nothing is sealed).
async fn seal_as(
    app: &App,
    actor: &Actor,
    org_id: Uuid,
    draft: Uuid,
    kind: &'static str,
    detail: serde_json::Value,
    confirmed: Option<&str>,
) -> Result<Sealed, Error> {
    let revision = app.catalogue().await?.revision;
    // An antivirus report is compared with the equipment list as it stands (read before the
    // sealing transaction): computers counted differently are flagged for the queue.
    let equipment = match kind {
        "antivirus" => Some(configuration::current_equipment(app, org_id).await?),
        _ => None,
    };
    let mut tx = app.db.begin().await?;
    // A draft sealed meanwhile is no longer locked here: the submit below answers its receipt.
    if let Some(expected) = confirmed
        && let Some((data, files)) = db::submissions::lock_draft(&mut tx, org_id, draft).await?
    {
        if confirm::fingerprint(&data, &files) != expected {
            return Err(Error::Conflict(confirm::CHANGED));
        }
        revise::before_seal(&mut tx, actor, org_id, draft, kind, &data).await?;
    }
    match db::submissions::submit(&mut tx, org_id, draft, actor.id, revision).await? {
        Some(receipt) => {
            let mut entry = actor.audit(
                "submission.submitted",
                Some(org_id),
                receipt.receipt_no.clone(),
            );
            let content: serde_json::Value =
                serde_json::from_str(&receipt.data).unwrap_or_default();
            let sealed_on = (receipt.submitted_at + chrono::Duration::hours(9)).date_naive();
            let mut raised = flags::of_content(kind, &content, sealed_on, app.config.av_stale_days);
            if let Some(eq) = &equipment {
                let rows: Vec<crate::domain::antivirus::AvRow> =
                    serde_json::from_value(content["rows"].clone()).unwrap_or_default();
                if !crate::domain::antivirus::mismatches(eq, &rows, &[]).is_empty() {
                    raised.push(flags::COUNTS);
                }
            }
            if !raised.is_empty() {
                if receipt.late {
                    raised.push(flags::LATE);
                }
                db::submissions::set_flags(&mut tx, draft, &flags::join(&raised)).await?;
            }
            entry.detail = serde_json::json!({
                "submission": draft,
                "kind": kind,
                "detail": detail,
                "assigned_to": receipt.assignee,
            });
            db::audit::append(&mut tx, &entry).await?;
            let mut mail = arrival_notice(
                &mut tx,
                app,
                (org_id, actor.id),
                draft,
                &receipt.receipt_no,
                kind,
            )
            .await?;
            // The Center member who asked for it hears that it came.
            if let Some(by) = receipt.requested_by {
                mail = mail
                    .and(answered_notice(&mut tx, app, (org_id, draft), &receipt, kind, by).await?);
            }
            tx.commit().await?;
            mail.send(app);
            Ok(Sealed {
                submission: draft,
                receipt_no: receipt.receipt_no,
                already: false,
            })
        }
        None => {
            drop(tx);
            let s = db::submissions::get(&app.db, Scope::Org(org_id), draft)
                .await?
                .ok_or(Error::NotFound)?;
            Ok(Sealed {
                submission: draft,
                receipt_no: s.receipt_no.ok_or(Error::Conflict("error.conflict.body"))?,
                already: true,
            })
        }
    }
}

/// What a submit finds when there is no open draft: the latest sealed one of the place (a
/// repeated submit), else nothing to submit (`submission.need_files`).
pub async fn nothing_open(app: &App, place: &Place) -> Result<Sealed, Error> {
    let latest = db::submissions::latest(&app.db, Some(place.org))
        .await?
        .into_iter()
        .find(|s| {
            s.kind == place.kind.as_str() && s.location_id == place.site && s.state != "draft"
        });
    let Some(s) = latest else {
        return Err(Error::field("_form", "submission.need_files"));
    };
    let receipt_no = db::submissions::get(&app.db, Scope::Org(place.org), s.id)
        .await?
        .and_then(|s| s.receipt_no)
        .unwrap_or_default();
    Ok(Sealed {
        submission: s.id,
        receipt_no,
        already: true,
    })
}

/// A problem with one field of one row: the row's index in the input, the field and the
/// locale key of the message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowProblem {
    pub row: usize,
    pub field: &'static str,
    pub key: &'static str,
}

impl RowProblem {
    /// The problems as form errors (`rows.{row}.{field}`).
    pub fn into_errors(problems: &[RowProblem], errors: &mut FieldErrors) {
        for p in problems {
            errors.add(format!("rows.{}.{}", p.row, p.field), p.key);
        }
    }

    /// The end of a check before sealing: the rows' problems (`rows`: `av.fix_rows`, and each
    /// row's) with the other `errors`; nothing wrong answers `Ok`.
    pub fn refuse(problems: &[RowProblem], mut errors: FieldErrors) -> Result<(), Error> {
        if !problems.is_empty() {
            errors.add("rows", "av.fix_rows");
            RowProblem::into_errors(problems, &mut errors);
        }
        match errors.is_empty() {
            true => Ok(()),
            false => Err(Error::Invalid(errors)),
        }
    }
}

/// Runs CPU-bound work (reading a workbook) off the async runtime.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Error> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Internal(anyhow::anyhow!("import task failed: {e}")))
}

/// Why an import stored nothing.
#[derive(Debug)]
pub enum ImportRefused {
    /// The file's problems, and the place names a row may name.
    Failed {
        failed: crate::domain::sheet::Failed,
        names: Vec<String>,
    },
    /// More rows than a report holds.
    TooManyRows { max: usize },
}
