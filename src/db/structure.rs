//! An organisation's locations (事業所 and ゲートウェイコンピュータ等の設置場所) and their
//! NACCS connections. Every query is bound to the organisation, which the caller has already
//! resolved within its scope; another organisation's id finds nothing.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Db, Tx, on_db, on_tx};
use crate::domain::{ConnectionForm, ScopeKind};

/// A stored location.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LocationRow {
    pub id: Uuid,
    pub org_id: Uuid,
    pub kind: String,
    pub office_id: Option<Uuid>,
    pub name: String,
    pub address: String,
    pub active: bool,
    pub version: i64,
    pub updated_at: DateTime<Utc>,
}

impl LocationRow {
    /// Office or gateway site.
    pub fn scope_kind(&self) -> ScopeKind {
        if self.kind == "gateway_site" {
            ScopeKind::GatewaySite
        } else {
            ScopeKind::Office
        }
    }
}

const COLS: &str = "id, org_id, kind, office_id, name, address, active, version, updated_at";

/// Every location of an organisation (or, with `None`, of every organisation, for Center
/// views), inactive ones too, offices first, in the order they were registered (本社 first, as
/// a clerk adds it).
pub async fn list(db: &Db, org_id: Option<Uuid>) -> Result<Vec<LocationRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLS} FROM locations WHERE ($1 IS NULL OR org_id = $1) ORDER BY kind DESC, created_at, id"
    );
    on_db!(db, p => sqlx::query_as::<_, LocationRow>(sqlx::AssertSqlSafe(sql)).bind(org_id).fetch_all(p).await)
}

/// One location of the organisation.
pub async fn get(db: &Db, org_id: Uuid, id: Uuid) -> Result<Option<LocationRow>, sqlx::Error> {
    let sql = format!("SELECT {COLS} FROM locations WHERE id = $1 AND org_id = $2");
    on_db!(db, p => sqlx::query_as::<_, LocationRow>(sqlx::AssertSqlSafe(sql)).bind(id).bind(org_id).fetch_optional(p).await)
}

/// The SQL condition (on `locations l`) for a place that keeps gateway logs (item 6): a gateway
/// site, or an office where a gateway connection is or was recorded (its logs are kept a year).
pub const KEEPS_LOGS: &str = "(l.kind = 'gateway_site' OR EXISTS (SELECT 1 FROM connections c \
     WHERE c.location_id = l.id AND c.org_id = l.org_id AND c.form = 'gateway'))";

/// The organisation's places that keep gateway logs (see [`KEEPS_LOGS`]), inactive ones too,
/// by name; with `id`, that one place only (another kind of place is not found).
pub async fn log_places(
    db: &Db,
    org_id: Uuid,
    id: Option<Uuid>,
) -> Result<Vec<LocationRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLS} FROM locations l WHERE l.org_id = $1 AND ($2 IS NULL OR l.id = $2) AND {KEEPS_LOGS} \
         ORDER BY l.kind DESC, l.created_at, l.id"
    );
    on_db!(db, p => sqlx::query_as::<_, LocationRow>(sqlx::AssertSqlSafe(sql)).bind(org_id).bind(id).fetch_all(p).await)
}

/// A location to create.
pub struct NewLocation<'a> {
    pub org_id: Uuid,
    pub kind: ScopeKind,
    pub office_id: Option<Uuid>,
    pub name: &'a str,
    pub address: &'a str,
}

/// Creates a location; a gateway site's office must be an active office of the same organisation.
pub async fn insert(tx: &mut Tx, l: &NewLocation<'_>) -> Result<Option<Uuid>, sqlx::Error> {
    let id = Uuid::now_v7();
    let now = super::now();
    let done = on_tx!(tx, c => sqlx::query(
        "INSERT INTO locations (id, org_id, kind, office_id, name, address, active, version, created_at, updated_at) \
         SELECT $1, $2, $3, $4, $5, $6, TRUE, 1, $7, $7 \
         WHERE $4 IS NULL OR EXISTS (SELECT 1 FROM locations o WHERE o.id = $4 AND o.org_id = $2 AND o.kind = 'office' AND o.active)",
    )
    .bind(id)
    .bind(l.org_id)
    .bind(l.kind.as_str())
    .bind(l.office_id)
    .bind(l.name)
    .bind(l.address)
    .bind(now)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok((done == 1).then_some(id))
}

/// Saves name and address if the row is still at `version`; false means someone saved first.
pub async fn update(
    tx: &mut Tx,
    org_id: Uuid,
    id: Uuid,
    version: i64,
    name: &str,
    address: &str,
) -> Result<bool, sqlx::Error> {
    on_tx!(tx, c => sqlx::query(
        "UPDATE locations SET name = $4, address = $5, version = version + 1, updated_at = $6 \
         WHERE id = $1 AND org_id = $2 AND version = $3",
    )
    .bind(id)
    .bind(org_id)
    .bind(version)
    .bind(name)
    .bind(address)
    .bind(super::now())
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected() == 1))
}

/// Deactivates or reactivates a location (never deletes it).
pub async fn set_active(
    tx: &mut Tx,
    org_id: Uuid,
    id: Uuid,
    active: bool,
) -> Result<bool, sqlx::Error> {
    on_tx!(tx, c => sqlx::query(
        "UPDATE locations SET active = $3, version = version + 1, updated_at = $4 WHERE id = $1 AND org_id = $2 AND active <> $3",
    )
    .bind(id)
    .bind(org_id)
    .bind(active)
    .bind(super::now())
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected() == 1))
}

/// A stored connection.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ConnectionRow {
    pub id: Uuid,
    pub org_id: Uuid,
    pub location_id: Uuid,
    pub form: String,
    pub router_id: String,
    pub active: bool,
}

impl ConnectionRow {
    pub fn form(&self) -> Option<ConnectionForm> {
        ConnectionForm::parse(&self.form)
    }
}

/// Every connection of an organisation (`None`: of every organisation).
pub async fn connections(db: &Db, org_id: Option<Uuid>) -> Result<Vec<ConnectionRow>, sqlx::Error> {
    on_db!(db, p => sqlx::query_as::<_, ConnectionRow>(
        "SELECT id, org_id, location_id, form, router_id, active FROM connections WHERE ($1 IS NULL OR org_id = $1) ORDER BY created_at",
    )
    .bind(org_id)
    .fetch_all(p)
    .await)
}

/// Adds a connection to an active location of the organisation.
pub async fn add_connection(
    tx: &mut Tx,
    org_id: Uuid,
    location_id: Uuid,
    form: ConnectionForm,
    router_id: &str,
) -> Result<Option<Uuid>, sqlx::Error> {
    let id = Uuid::now_v7();
    let done = on_tx!(tx, c => sqlx::query(
        "INSERT INTO connections (id, org_id, location_id, form, router_id, active, created_at) \
         SELECT $1, $2, $3, $4, $5, TRUE, $6 \
         WHERE EXISTS (SELECT 1 FROM locations l WHERE l.id = $3 AND l.org_id = $2 AND l.active)",
    )
    .bind(id)
    .bind(org_id)
    .bind(location_id)
    .bind(form.as_str())
    .bind(router_id)
    .bind(super::now())
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok((done == 1).then_some(id))
}

/// Deactivates a connection of the organisation.
pub async fn deactivate_connection(
    tx: &mut Tx,
    org_id: Uuid,
    id: Uuid,
) -> Result<bool, sqlx::Error> {
    on_tx!(tx, c => sqlx::query("UPDATE connections SET active = FALSE WHERE id = $1 AND org_id = $2 AND active")
        .bind(id)
        .bind(org_id)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected() == 1))
}
