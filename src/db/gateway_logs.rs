//! Gateway-log checks (item 6): one row per organisation and log content, written in the
//! upload's transaction, read by the pages that show a log.

use uuid::Uuid;

use super::{Db, Tx, on_db, on_tx};
use crate::domain::Scope;

/// Keeps the check of a log the organisation has just attached (a later upload of the same
/// content replaces it: the check may have learned more).
pub async fn record_check(
    tx: &mut Tx,
    org_id: Uuid,
    sha256: &str,
    result: &str,
) -> Result<(), sqlx::Error> {
    let now = super::now();
    on_tx!(tx, c => sqlx::query(
        "INSERT INTO gateway_log_checks (org_id, sha256, result, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (org_id, sha256) DO UPDATE SET result = excluded.result, created_at = excluded.created_at",
    )
    .bind(org_id)
    .bind(sha256)
    .bind(result)
    .bind(now)
    .execute(&mut *c)
    .await
    .map(|_| ()))
}

/// The kept check (JSON) of a log of the organisation, within the scope.
pub async fn check(
    db: &Db,
    scope: Scope,
    org_id: Uuid,
    sha256: &str,
) -> Result<Option<String>, sqlx::Error> {
    if let Scope::Org(o) = scope
        && o != org_id
    {
        return Ok(None);
    }
    on_db!(db, p => sqlx::query_scalar(
        "SELECT result FROM gateway_log_checks WHERE org_id = $1 AND sha256 = $2",
    )
    .bind(org_id)
    .bind(sha256)
    .fetch_optional(p)
    .await)
}
