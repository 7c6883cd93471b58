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
/// a place of the organisation that keeps logs (`structure::KEEPS_LOGS`). False when someone changed it meanwhile (or the site
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
    let sql = format!(
        "INSERT INTO gateway_log_mappings (org_id, site_id, mapping, version, updated_by, updated_at) \
         SELECT $1, $2, $3, 1, $5, $6 WHERE EXISTS (SELECT 1 FROM locations l \
           WHERE l.id = $2 AND l.org_id = $1 AND {}) \
         AND ($4 = 0 OR EXISTS (SELECT 1 FROM gateway_log_mappings m \
           WHERE m.org_id = $1 AND m.site_id = $2)) \
         ON CONFLICT (org_id, site_id) DO UPDATE SET mapping = excluded.mapping, \
           version = gateway_log_mappings.version + 1, updated_by = excluded.updated_by, \
           updated_at = excluded.updated_at \
         WHERE gateway_log_mappings.version = $4",
        super::structure::KEEPS_LOGS
    );
    on_tx!(tx, c => sqlx::query(sqlx::AssertSqlSafe(sql))
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

/// A log's kept check at a gateway site, and where its re-check stands (see
/// `migrations/*/0032_gateway_log_site_checks.sql`).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SiteCheckRow {
    /// The latest finished check (JSON).
    pub result: String,
    /// `done`, `pending`, `running`, `refused` or `failed`.
    pub state: String,
    /// Why the re-check refused the log (JSON), when `refused`.
    pub reason: Option<String>,
    /// The site's mapping version the row is (or is being) made with.
    pub version: i64,
}

/// The check of a log kept for a gateway site of the organisation, within the scope.
pub async fn site_check(
    db: &Db,
    scope: Scope,
    org_id: Uuid,
    site_id: Uuid,
    sha256: &str,
) -> Result<Option<SiteCheckRow>, sqlx::Error> {
    on_db!(db, p => sqlx::query_as::<_, SiteCheckRow>(
        "SELECT result, state, reason, version FROM gateway_log_site_checks \
         WHERE org_id = $1 AND site_id = $2 AND sha256 = $3 AND ($4 IS NULL OR org_id = $4)",
    )
    .bind(org_id)
    .bind(site_id)
    .bind(sha256)
    .bind(scope.org_filter())
    .fetch_optional(p)
    .await)
}

/// Keeps the check an upload made of a log for a gateway site, read with the site's mapping
/// at `version` (0: none): it replaces whatever was kept or queued for that content there (a
/// re-check still running finds its row changed and keeps nothing).
pub async fn record_site_check(
    tx: &mut Tx,
    (org_id, site_id, sha256): (Uuid, Uuid, &str),
    result: &str,
    version: i64,
    file_name: &str,
) -> Result<(), sqlx::Error> {
    let now = super::now();
    on_tx!(tx, c => sqlx::query(
        "INSERT INTO gateway_log_site_checks (org_id, site_id, sha256, result, state, version, \
           mapping, reason, file_name, requested_by, holder, lease_until, attempts, updated_at) \
         VALUES ($1, $2, $3, $4, 'done', $5, NULL, NULL, $6, NULL, NULL, NULL, 0, $7) \
         ON CONFLICT (org_id, site_id, sha256) DO UPDATE SET result = excluded.result, \
           state = 'done', version = excluded.version, mapping = NULL, reason = NULL, \
           file_name = excluded.file_name, requested_by = NULL, holder = NULL, \
           lease_until = NULL, attempts = 0, updated_at = excluded.updated_at",
    )
    .bind(org_id)
    .bind(site_id)
    .bind(sha256)
    .bind(result)
    .bind(version)
    .bind(file_name)
    .bind(now)
    .execute(&mut *c)
    .await
    .map(|_| ()))
}

/// Queues the re-check of a log with the site's mapping at `version` (JSON `mapping`),
/// replacing any earlier one; `kept` is the check kept until then (for a row not there yet).
#[allow(clippy::too_many_arguments)]
pub async fn queue_recheck(
    tx: &mut Tx,
    (org_id, site_id, sha256): (Uuid, Uuid, &str),
    kept: &str,
    version: i64,
    mapping: &str,
    file_name: &str,
    user: Uuid,
) -> Result<(), sqlx::Error> {
    let now = super::now();
    on_tx!(tx, c => sqlx::query(
        "INSERT INTO gateway_log_site_checks (org_id, site_id, sha256, result, state, version, \
           mapping, reason, file_name, requested_by, holder, lease_until, attempts, updated_at) \
         VALUES ($1, $2, $3, $4, 'pending', $5, $6, NULL, $7, $8, NULL, NULL, 0, $9) \
         ON CONFLICT (org_id, site_id, sha256) DO UPDATE SET state = 'pending', \
           version = excluded.version, mapping = excluded.mapping, reason = NULL, \
           file_name = excluded.file_name, requested_by = excluded.requested_by, holder = NULL, \
           lease_until = NULL, attempts = 0, updated_at = excluded.updated_at",
    )
    .bind(org_id)
    .bind(site_id)
    .bind(sha256)
    .bind(kept)
    .bind(version)
    .bind(mapping)
    .bind(file_name)
    .bind(user)
    .bind(now)
    .execute(&mut *c)
    .await
    .map(|_| ()))
}

/// A re-check claimed by this node.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RecheckJob {
    pub org_id: Uuid,
    pub site_id: Uuid,
    pub sha256: String,
    pub mapping: Option<String>,
    pub version: i64,
    pub file_name: String,
    pub requested_by: Option<Uuid>,
    /// Claims so far, this one included.
    pub attempts: i64,
}

/// Claims the oldest re-check waiting, or one whose holder's lease has passed (a node that
/// stopped midway): one conditional UPDATE on the row, so only one node runs it.
pub async fn claim_recheck(
    db: &Db,
    holder: &str,
    now: chrono::DateTime<chrono::Utc>,
    until: chrono::DateTime<chrono::Utc>,
) -> Result<Option<RecheckJob>, sqlx::Error> {
    const WAITING: &str = "(state = 'pending' OR (state = 'running' AND lease_until < $1))";
    // A few tries: another node may take the row between the look and the claim.
    for _ in 0..4 {
        let sql = format!(
            "SELECT org_id, site_id, sha256 FROM gateway_log_site_checks WHERE {WAITING} \
             ORDER BY updated_at LIMIT 1"
        );
        let Some((org, site, sha)) = on_db!(db, p => sqlx::query_as::<_, (Uuid, Uuid, String)>(
            sqlx::AssertSqlSafe(sql))
            .bind(now)
            .fetch_optional(p)
            .await)?
        else {
            return Ok(None);
        };
        let sql = format!(
            "UPDATE gateway_log_site_checks SET state = 'running', holder = $2, \
               lease_until = $3, attempts = attempts + 1 \
             WHERE org_id = $4 AND site_id = $5 AND sha256 = $6 AND {WAITING} \
             RETURNING org_id, site_id, sha256, mapping, version, file_name, requested_by, attempts"
        );
        let got = on_db!(db, p => sqlx::query_as::<_, RecheckJob>(sqlx::AssertSqlSafe(sql))
            .bind(now)
            .bind(holder)
            .bind(until)
            .bind(org)
            .bind(site)
            .bind(&sha)
            .fetch_optional(p)
            .await)?;
        if got.is_some() {
            return Ok(got);
        }
    }
    Ok(None)
}

/// Extends a running re-check's lease while its holder still has it.
pub async fn renew_recheck(
    db: &Db,
    job: &RecheckJob,
    holder: &str,
    until: chrono::DateTime<chrono::Utc>,
) -> Result<bool, sqlx::Error> {
    on_db!(db, p => sqlx::query(
        "UPDATE gateway_log_site_checks SET lease_until = $5 WHERE org_id = $1 AND site_id = $2 \
         AND sha256 = $3 AND holder = $4 AND state = 'running'",
    )
    .bind(job.org_id)
    .bind(job.site_id)
    .bind(&job.sha256)
    .bind(holder)
    .bind(until)
    .execute(p)
    .await
    .map(|r| r.rows_affected() == 1))
}

/// Ends a running re-check held by `holder` at its version: `done` with the new result,
/// `refused` with its reason, `failed`, or back to `pending` (to be tried again). False when
/// the row changed meanwhile (a newer mapping, a new upload, another node): nothing written.
pub async fn finish_recheck(
    tx: &mut Tx,
    job: &RecheckJob,
    holder: &str,
    state: &str,
    result: Option<&str>,
    reason: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let now = super::now();
    on_tx!(tx, c => sqlx::query(
        "UPDATE gateway_log_site_checks SET state = $6, result = COALESCE($7, result), \
           reason = $8, holder = NULL, lease_until = NULL, updated_at = $9, \
           mapping = CASE WHEN $6 = 'pending' THEN mapping ELSE NULL END \
         WHERE org_id = $1 AND site_id = $2 AND sha256 = $3 AND holder = $4 AND version = $5 \
         AND state = 'running'",
    )
    .bind(job.org_id)
    .bind(job.site_id)
    .bind(&job.sha256)
    .bind(holder)
    .bind(job.version)
    .bind(state)
    .bind(result)
    .bind(reason)
    .bind(now)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected() == 1))
}
