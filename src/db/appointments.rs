//! 管理責任者の設置: administrator appointments per office and gateway site, with history.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::{Db, Tx, on_db, on_tx};

/// A stored appointment.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AppointmentRow {
    pub id: Uuid,
    pub location_id: Uuid,
    pub name: String,
    pub name_kana: String,
    pub department: String,
    pub title: String,
    pub phone: String,
    pub emergency_contact: String,
    pub email: String,
    pub effective_from: NaiveDate,
    pub created_at: DateTime<Utc>,
}

/// The fields of a new appointment.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct NewAppointment {
    pub name: String,
    pub name_kana: String,
    pub department: String,
    pub title: String,
    pub phone: String,
    pub emergency_contact: String,
    pub email: String,
    pub effective_from: NaiveDate,
}

/// Records an appointment for a location of the organisation.
pub async fn insert(
    tx: &mut Tx,
    org_id: Uuid,
    location_id: Uuid,
    a: &NewAppointment,
    by: Uuid,
) -> Result<Uuid, sqlx::Error> {
    let id = Uuid::now_v7();
    on_tx!(tx, c => sqlx::query(
        "INSERT INTO appointments (id, org_id, location_id, name, name_kana, department, title, phone, emergency_contact, \
         email, effective_from, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(id)
    .bind(org_id)
    .bind(location_id)
    .bind(&a.name)
    .bind(&a.name_kana)
    .bind(&a.department)
    .bind(&a.title)
    .bind(&a.phone)
    .bind(&a.emergency_contact)
    .bind(&a.email)
    .bind(a.effective_from)
    .bind(by)
    .bind(super::now())
    .execute(&mut *c)
    .await
    .map(|_| ()))?;
    Ok(id)
}

const COLS: &str = "id, location_id, name, name_kana, department, title, phone, emergency_contact, email, effective_from, created_at";

/// Every appointment of the organisation, newest effective date first (per location).
pub async fn list(db: &Db, org_id: Uuid) -> Result<Vec<AppointmentRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLS} FROM appointments WHERE org_id = $1 ORDER BY location_id, effective_from DESC, created_at DESC"
    );
    on_db!(db, p => sqlx::query_as::<_, AppointmentRow>(sqlx::AssertSqlSafe(sql)).bind(org_id).fetch_all(p).await)
}

/// Who was responsible for the location on `date`: the latest appointment effective by then.
pub async fn on_date(
    db: &Db,
    org_id: Uuid,
    location_id: Uuid,
    date: NaiveDate,
) -> Result<Option<AppointmentRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLS} FROM appointments WHERE org_id = $1 AND location_id = $2 AND effective_from <= $3 \
         ORDER BY effective_from DESC, created_at DESC LIMIT 1"
    );
    on_db!(db, p => sqlx::query_as::<_, AppointmentRow>(sqlx::AssertSqlSafe(sql))
        .bind(org_id)
        .bind(location_id)
        .bind(date)
        .fetch_optional(p)
        .await)
}
