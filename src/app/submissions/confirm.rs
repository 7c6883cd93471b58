//! The confirmation step (確認) before a draft is sealed: the page's 提出 saves and checks the
//! draft, the confirmation page shows it as it will be sealed with its warnings, and only the
//! confirmation seals it, and only if the draft still holds what was shown (its fingerprint,
//! compared under the draft's lock in the sealing transaction).

use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::revise::{self, Drafted};
use super::{Place, ReportKind, Sealed, check_place, nothing_open, reporting_org, seal_as};
use crate::app::{Actor, App, Error, antivirus, gateway_logs, inhouse, outside};
use crate::db;
use crate::db::submissions::{FileRow, SubmissionRow};
use crate::domain::Scope;

/// Why a confirmation sealed nothing: the draft changed after it was shown.
pub const CHANGED: &str = "confirm.changed";

/// What a draft holds, as one value: its data and its files (by id and content). Two reads of
/// an unchanged draft give the same fingerprint.
pub fn fingerprint(data: &str, files: &[FileRow]) -> String {
    let mut h = Sha256::new();
    h.update(data.as_bytes());
    let mut ids: Vec<(Uuid, &str)> = files.iter().map(|f| (f.id, f.sha256.as_str())).collect();
    ids.sort();
    for (id, sha) in ids {
        h.update(b"\n");
        h.update(id.as_bytes());
        h.update(sha.as_bytes());
    }
    hex::encode(h.finalize())
}

/// A draft about to be confirmed.
#[derive(Debug, Clone)]
pub struct ToConfirm {
    pub draft: SubmissionRow,
    /// The report of a place, or the revision of a form (items 1, 2, §7.4.2(1)).
    pub what: Drafted,
    pub files: Vec<FileRow>,
    /// What the confirmation form carries back.
    pub fingerprint: String,
    /// The returned version it corrects.
    pub previous: Option<SubmissionRow>,
    /// The accepted report it renews (receipt number, row).
    pub renewed: Option<(String, SubmissionRow)>,
    /// A report of the same item and place already waiting for the Center's decision.
    pub waiting: Option<db::review::VersionRow>,
}

/// A draft to confirm, or the receipt of one sealed already (a confirmation sent twice).
#[derive(Debug, Clone)]
pub enum Confirming {
    Open(Box<ToConfirm>),
    Sealed(Sealed),
}

/// A draft of the organisation as the confirmation page shows it.
pub async fn to_confirm(
    app: &App,
    actor: &Actor,
    org_id: Uuid,
    id: Uuid,
) -> Result<Confirming, Error> {
    reporting_org(app, actor, org_id).await?;
    let s = db::submissions::get(&app.db, Scope::Org(org_id), id)
        .await?
        .ok_or(Error::NotFound)?;
    if s.state != "draft" {
        return match s.receipt_no {
            Some(receipt_no) => Ok(Confirming::Sealed(Sealed {
                submission: id,
                receipt_no,
                already: true,
            })),
            None => Err(Error::NotFound),
        };
    }
    let what = Drafted::of(&s).ok_or(Error::NotFound)?;
    revise::may_draft(app, actor, org_id, &what).await?;
    let files = db::submissions::files(&app.db, Scope::Org(org_id), id).await?;
    // What the organisation weighs its draft against: the version the Center returned, and
    // the accepted report the series renews.
    let scope = Scope::Org(org_id);
    let previous = match db::review::revised_from(&app.db, org_id, id).await? {
        Some(from) => db::submissions::get(&app.db, scope, from).await?,
        None => None,
    };
    let series = db::review::series_of(&app.db, scope, id)
        .await?
        .unwrap_or(id);
    let renewed = match db::renewals::renewed_from(&app.db, org_id, series).await? {
        Some((from, receipt, _)) => db::submissions::get(&app.db, scope, from)
            .await?
            .map(|row| (receipt, row)),
        None => None,
    };
    let waiting =
        db::review::waiting_report(&app.db, org_id, &s.kind, s.location_id, Some(id)).await?;
    Ok(Confirming::Open(Box::new(ToConfirm {
        fingerprint: fingerprint(&s.data, &files),
        waiting,
        previous,
        renewed,
        draft: s,
        what,
        files,
    })))
}

/// The kind's checks of a draft before it is sealed; answers the seal's audit detail.
async fn check(
    app: &App,
    actor: &Actor,
    what: &Drafted,
    draft: &SubmissionRow,
) -> Result<serde_json::Value, Error> {
    match what {
        Drafted::Report(place) => check_report(app, place, draft).await,
        Drafted::Form(kind) => revise::check(app, actor, *kind, draft).await,
    }
}

/// [`check`] of a report of a place.
async fn check_report(
    app: &App,
    place: &Place,
    draft: &SubmissionRow,
) -> Result<serde_json::Value, Error> {
    match (place.kind, place.site) {
        (ReportKind::Antivirus, _) => antivirus::check(app, place.org, draft).await,
        (ReportKind::SystemConfiguration, _) => {
            super::configuration::check(app, place.org, draft).await
        }
        (ReportKind::InhouseMeasures, _) => inhouse::check(draft),
        (ReportKind::OutsideConnections, _) => outside::check(app, place.org, draft).await,
        (ReportKind::GatewayLogs, Some(site)) => {
            Ok(gateway_logs::check(app, place.org, site, draft)
                .await?
                .unwrap_or_default())
        }
        (ReportKind::GatewayLogs, None) => Err(Error::NotFound),
    }
}

/// Submits the open draft of an organisation-wide place as stored, checked as its kind checks
/// it, without a confirmation (the API's submit). With no draft open it answers the latest
/// receipt (a repeated submit) or `submission.need_files`.
pub async fn submit_as_stored(app: &App, actor: &Actor, place: &Place) -> Result<Sealed, Error> {
    reporting_org(app, actor, place.org).await?;
    let Some(draft) =
        db::submissions::draft(&app.db, place.org, place.kind.as_str(), place.site).await?
    else {
        return nothing_open(app, place).await;
    };
    let detail = check_report(app, place, &draft).await?;
    super::seal(app, actor, place.org, draft.id, place.kind, detail).await
}

/// The open draft of a place, checked as a submit checks it (the same errors): the page's
/// 提出 then shows its confirmation. No draft open: `submission.need_files`.
pub async fn prepare(app: &App, actor: &Actor, place: &Place) -> Result<Uuid, Error> {
    reporting_org(app, actor, place.org).await?;
    check_place(app, place).await?;
    let Some(draft) =
        db::submissions::draft(&app.db, place.org, place.kind.as_str(), place.site).await?
    else {
        return Err(Error::field("_form", "submission.need_files"));
    };
    check_report(app, place, &draft).await?;
    Ok(draft.id)
}

/// Seals the draft the confirmation page showed: checked again, and sealed only if it still
/// holds what was shown (`fingerprint`; else [`CHANGED`]). A draft sealed already answers its
/// receipt with `already` (parallel or repeated confirmations seal it once).
pub async fn confirm(
    app: &App,
    actor: &Actor,
    org_id: Uuid,
    id: Uuid,
    fingerprint: &str,
) -> Result<Sealed, Error> {
    let shown = match to_confirm(app, actor, org_id, id).await? {
        Confirming::Sealed(done) => return Ok(done),
        Confirming::Open(d) => d,
    };
    let detail = check(app, actor, &shown.what, &shown.draft).await?;
    seal_as(
        app,
        actor,
        org_id,
        id,
        shown.what.kind(),
        detail,
        Some(fingerprint),
    )
    .await
}
