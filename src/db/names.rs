//! Names for the ids audit entries carry (submissions, people, places, organisations), so the
//! trail and the activity lists show 受付番号, people and places instead of UUIDs.

use uuid::Uuid;

use super::{Db, on_db};

/// What an id names.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Named {
    pub id: Uuid,
    /// The receipt number (empty for a draft), the person's, place's or organisation's name.
    pub name: String,
    /// `submission`, `center_user`, `user`, `location`, `organisation`, `instruction`,
    /// `request`, `connection` (`extra`: its form), `api_token` or `return_reason`.
    pub kind: String,
    /// For an instruction or a request (whose `name` is its organisation's): its item's key
    /// and due date as `item|YYYY-MM-DD` (empty otherwise).
    pub extra: String,
}

/// The names of `ids` that the viewer may see (`org`: an organisation's viewer sees its own
/// submissions, places and people, and Center staff as such). At most 1,000 ids.
pub async fn names(db: &Db, ids: &[Uuid], org: Option<Uuid>) -> Result<Vec<Named>, sqlx::Error> {
    let ids = &ids[..ids.len().min(1000)];
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let list: Vec<String> = (0..ids.len()).map(|i| format!("${}", i + 2)).collect();
    let list = list.join(", ");
    let sql = format!(
        "SELECT id, COALESCE(receipt_no, '') AS name, 'submission' AS kind, '' AS extra FROM submissions \
         WHERE id IN ({list}) AND ($1 IS NULL OR org_id = $1) \
         UNION ALL SELECT id, display_name AS name, CASE WHEN org_id IS NULL THEN 'center_user' ELSE 'user' END AS kind, '' AS extra \
         FROM users WHERE id IN ({list}) AND ($1 IS NULL OR org_id = $1 OR org_id IS NULL) \
         UNION ALL SELECT id, name, 'location' AS kind, '' AS extra FROM locations WHERE id IN ({list}) AND ($1 IS NULL OR org_id = $1) \
         UNION ALL SELECT id, name, 'organisation' AS kind, '' AS extra FROM organisations WHERE id IN ({list}) AND ($1 IS NULL OR id = $1) \
         UNION ALL SELECT i.id, o.name AS name, 'instruction' AS kind, \
           i.item_key || '|' || CAST(i.due_date AS TEXT) AS extra \
         FROM instructions i JOIN organisations o ON o.id = i.org_id \
         WHERE i.id IN ({list}) AND ($1 IS NULL OR i.org_id = $1) \
         UNION ALL SELECT r.id, o.name AS name, 'request' AS kind, \
           r.item_key || '|' || CAST(r.due_date AS TEXT) AS extra \
         FROM requests r JOIN organisations o ON o.id = r.org_id \
         WHERE r.id IN ({list}) AND ($1 IS NULL OR r.org_id = $1) \
         UNION ALL SELECT c.id, l.name AS name, 'connection' AS kind, c.form AS extra \
         FROM connections c JOIN locations l ON l.id = c.location_id \
         WHERE c.id IN ({list}) AND ($1 IS NULL OR c.org_id = $1) \
         UNION ALL SELECT id, name, 'api_token' AS kind, '' AS extra FROM api_tokens \
         WHERE id IN ({list}) AND ($1 IS NULL OR org_id = $1) \
         UNION ALL SELECT id, title AS name, 'return_reason' AS kind, '' AS extra FROM return_reasons \
         WHERE id IN ({list}) AND $1 IS NULL"
    );
    on_db!(db, p => {
        let mut q = sqlx::query_as::<_, Named>(sqlx::AssertSqlSafe(sql.clone())).bind(org);
        for id in ids {
            q = q.bind(*id);
        }
        q.fetch_all(p).await
    })
}
