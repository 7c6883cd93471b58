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

/// A gateway site's column mapping (JSON) and its version, within the scope.
pub async fn mapping(
    db: &Db,
    scope: Scope,
    org_id: Uuid,
    site_id: Uuid,
) -> Result<Option<(String, i64)>, sqlx::Error> {
    on_db!(db, p => sqlx::query_as::<_, (String, i64)>(
        "SELECT mapping, version FROM gateway_log_mappings \
         WHERE org_id = $1 AND site_id = $2 AND ($3 IS NULL OR org_id = $3)",
    )
    .bind(org_id)
    .bind(site_id)
    .bind(scope.org_filter())
    .fetch_optional(p)
    .await)
}

/// Keeps a gateway site's column mapping if it is still at `version` as read (0: none yet):
/// one statement that inserts (version 0 only) or updates (that version only), and only for
/// a gateway site of the organisation. False when someone changed it meanwhile (or the site
/// is not the organisation's).
pub async fn save_mapping(
    tx: &mut Tx,
    org_id: Uuid,
    site_id: Uuid,
    mapping: &str,
    version: i64,
    user: Uuid,
) -> Result<bool, sqlx::Error> {
    let now = super::now();
    on_tx!(tx, c => sqlx::query(
        "INSERT INTO gateway_log_mappings (org_id, site_id, mapping, version, updated_by, updated_at) \
         SELECT $1, $2, $3, 1, $5, $6 WHERE EXISTS (SELECT 1 FROM locations l \
           WHERE l.id = $2 AND l.org_id = $1 AND l.kind = 'gateway_site') \
         AND ($4 = 0 OR EXISTS (SELECT 1 FROM gateway_log_mappings m \
           WHERE m.org_id = $1 AND m.site_id = $2)) \
         ON CONFLICT (org_id, site_id) DO UPDATE SET mapping = excluded.mapping, \
           version = gateway_log_mappings.version + 1, updated_by = excluded.updated_by, \
           updated_at = excluded.updated_at \
         WHERE gateway_log_mappings.version = $4",
    )
    .bind(org_id)
    .bind(site_id)
    .bind(mapping)
    .bind(version)
    .bind(user)
    .bind(now)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected() == 1))
}
