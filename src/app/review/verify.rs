//! 受付票の照合: Center staff check a receipt number and the code printed on a receipt to
//! confirm it came from the portal. Every check is audited; a wrong number and a wrong code
//! get the same answer (nothing tells which receipts exist), and a user who keeps failing is
//! stopped for a while.

use super::super::{Actor, App, Error, FieldErrors};
use super::REVIEWERS;
use crate::db::{self, orgs::OrgRow, receipts, submissions::SubmissionRow};
use crate::domain::Scope;

/// Failed checks allowed per user within `WINDOW_MINUTES`.
const MAX_FAILURES: i64 = 10;
const WINDOW_MINUTES: i64 = 15;

/// What a check found.
#[derive(Debug)]
pub enum Verification {
    /// The receipt is genuine: the sealed version it stands for, and its organisation.
    Genuine(Box<SubmissionRow>, Box<OrgRow>),
    /// No such receipt, or not with this code (the same answer for both).
    Failed,
    /// Too many failed checks lately: try again later.
    Throttled,
}

/// Checks a receipt number and code as typed (both required: invalid, fields `receipt`,
/// `code`).
pub async fn verify_receipt(
    app: &App,
    actor: &Actor,
    receipt: &str,
    code: &str,
) -> Result<Verification, Error> {
    if !actor.holds(&REVIEWERS) {
        return Err(Error::Forbidden);
    }
    let receipt = receipts::receipt_number(receipt);
    let code = receipts::normalise(code);
    let mut errors = FieldErrors::default();
    if receipt.is_empty() {
        errors.add("receipt", "error.required");
    }
    if code.is_empty() {
        errors.add("code", "error.required");
    }
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    let since = db::now() - chrono::Duration::minutes(WINDOW_MINUTES);
    if receipts::failures_since(&app.db, actor.id, since).await? >= MAX_FAILURES {
        let mut entry = actor.audit("receipt.check_throttled", None, receipt.clone());
        entry.detail = serde_json::json!({ "code": code });
        db::audit::append_alone(&app.db, &entry).await?;
        return Ok(Verification::Throttled);
    }
    let found = match db::submissions::by_receipt(&app.db, &receipt).await? {
        Some(id) => db::submissions::get(&app.db, Scope::Center, id).await?,
        None => None,
    };
    let genuine = match &found {
        Some(s) => match &s.snapshot {
            Some(snap) => receipts::same(&receipts::code(&app.db, &receipt, snap)?, &code),
            None => false,
        },
        None => false,
    };
    let s = match (found, genuine) {
        (Some(s), true) => s,
        _ => {
            let mut entry = actor.audit("receipt.check_failed", None, receipt.clone());
            entry.detail = serde_json::json!({ "code": code });
            db::audit::append_alone(&app.db, &entry).await?;
            return Ok(Verification::Failed);
        }
    };
    db::audit::append_alone(
        &app.db,
        &actor.audit("receipt.checked", Some(s.org_id), receipt),
    )
    .await?;
    let org = db::orgs::get(&app.db, Scope::Center, s.org_id)
        .await?
        .ok_or(Error::NotFound)?;
    Ok(Verification::Genuine(Box::new(s), Box::new(org)))
}
