//! Embedded migrations: the same names in `migrations/sqlite` and `migrations/postgres`.

use sqlx::AssertSqlSafe;

use super::{Db, on_db};

/// (name, SQLite text, PostgreSQL text), in order. A landed migration is never edited.
const MIGRATIONS: &[(&str, &str, &str)] = &[
    (
        "0001_foundation",
        include_str!("../../migrations/sqlite/0001_foundation.sql"),
        include_str!("../../migrations/postgres/0001_foundation.sql"),
    ),
    (
        "0002_structure",
        include_str!("../../migrations/sqlite/0002_structure.sql"),
        include_str!("../../migrations/postgres/0002_structure.sql"),
    ),
    (
        "0003_files_and_receipts",
        include_str!("../../migrations/sqlite/0003_files_and_receipts.sql"),
        include_str!("../../migrations/postgres/0003_files_and_receipts.sql"),
    ),
    (
        "0004_review",
        include_str!("../../migrations/sqlite/0004_review.sql"),
        include_str!("../../migrations/postgres/0004_review.sql"),
    ),
    (
        "0005_assignment",
        include_str!("../../migrations/sqlite/0005_assignment.sql"),
        include_str!("../../migrations/postgres/0005_assignment.sql"),
    ),
    (
        "0006_comments",
        include_str!("../../migrations/sqlite/0006_comments.sql"),
        include_str!("../../migrations/postgres/0006_comments.sql"),
    ),
    (
        "0007_followup",
        include_str!("../../migrations/sqlite/0007_followup.sql"),
        include_str!("../../migrations/postgres/0007_followup.sql"),
    ),
    (
        "0008_mail_outbox",
        include_str!("../../migrations/sqlite/0008_mail_outbox.sql"),
        include_str!("../../migrations/postgres/0008_mail_outbox.sql"),
    ),
    (
        "0009_one_draft",
        include_str!("../../migrations/sqlite/0009_one_draft.sql"),
        include_str!("../../migrations/postgres/0009_one_draft.sql"),
    ),
    (
        "0010_audit_seal",
        include_str!("../../migrations/sqlite/0010_audit_seal.sql"),
        include_str!("../../migrations/postgres/0010_audit_seal.sql"),
    ),
    (
        "0013_reset_requests",
        include_str!("../../migrations/sqlite/0013_reset_requests.sql"),
        include_str!("../../migrations/postgres/0013_reset_requests.sql"),
    ),
    (
        "0014_session_device",
        include_str!("../../migrations/sqlite/0014_session_device.sql"),
        include_str!("../../migrations/postgres/0014_session_device.sql"),
    ),
    (
        "0015_second_factor",
        include_str!("../../migrations/sqlite/0015_second_factor.sql"),
        include_str!("../../migrations/postgres/0015_second_factor.sql"),
    ),
    (
        "0017_gateway_log_checks",
        include_str!("../../migrations/sqlite/0017_gateway_log_checks.sql"),
        include_str!("../../migrations/postgres/0017_gateway_log_checks.sql"),
    ),
    (
        "0018_queue_indexes",
        include_str!("../../migrations/sqlite/0018_queue_indexes.sql"),
        include_str!("../../migrations/postgres/0018_queue_indexes.sql"),
    ),
    (
        "0020_retention",
        include_str!("../../migrations/sqlite/0020_retention.sql"),
        include_str!("../../migrations/postgres/0020_retention.sql"),
    ),
    (
        "0021_api_tokens",
        include_str!("../../migrations/sqlite/0021_api_tokens.sql"),
        include_str!("../../migrations/postgres/0021_api_tokens.sql"),
    ),
    (
        "0022_api_idempotency",
        include_str!("../../migrations/sqlite/0022_api_idempotency.sql"),
        include_str!("../../migrations/postgres/0022_api_idempotency.sql"),
    ),
    (
        "0023_queue_tally",
        include_str!("../../migrations/sqlite/0023_queue_tally.sql"),
        include_str!("../../migrations/postgres/0023_queue_tally.sql"),
    ),
    (
        "0026_retention_indexed",
        include_str!("../../migrations/sqlite/0026_retention_indexed.sql"),
        include_str!("../../migrations/postgres/0026_retention_indexed.sql"),
    ),
    (
        "0027_renewal",
        include_str!("../../migrations/sqlite/0027_renewal.sql"),
        include_str!("../../migrations/postgres/0027_renewal.sql"),
    ),
    (
        "0028_review_queue",
        include_str!("../../migrations/sqlite/0028_review_queue.sql"),
        include_str!("../../migrations/postgres/0028_review_queue.sql"),
    ),
    (
        "0029_passkeys_unlock",
        include_str!("../../migrations/sqlite/0029_passkeys_unlock.sql"),
        include_str!("../../migrations/postgres/0029_passkeys_unlock.sql"),
    ),
    (
        "0030_gateway_log_mappings",
        include_str!("../../migrations/sqlite/0030_gateway_log_mappings.sql"),
        include_str!("../../migrations/postgres/0030_gateway_log_mappings.sql"),
    ),
    (
        "0031_blob_holds",
        include_str!("../../migrations/sqlite/0031_blob_holds.sql"),
        include_str!("../../migrations/postgres/0031_blob_holds.sql"),
    ),
    (
        "0032_gateway_log_site_checks",
        include_str!("../../migrations/sqlite/0032_gateway_log_site_checks.sql"),
        include_str!("../../migrations/postgres/0032_gateway_log_site_checks.sql"),
    ),
    (
        "0033_name_version",
        include_str!("../../migrations/sqlite/0033_name_version.sql"),
        include_str!("../../migrations/postgres/0033_name_version.sql"),
    ),
    (
        "0034_user_lang",
        include_str!("../../migrations/sqlite/0034_user_lang.sql"),
        include_str!("../../migrations/postgres/0034_user_lang.sql"),
    ),
];

/// Whether this build knows a migration (a backup of a newer schema cannot be restored by it).
pub fn knows(name: &str) -> bool {
    name.is_empty() || MIGRATIONS.iter().any(|(n, _, _)| *n == name)
}

/// Applies every migration not yet applied, each in its own transaction; returns how many ran.
pub async fn run(db: &Db) -> anyhow::Result<usize> {
    on_db!(db, p => {
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY NOT NULL, applied_at TEXT NOT NULL)",
        )
        .execute(p)
        .await?;
    });
    let mut ran = 0;
    for (name, sqlite_sql, pg_sql) in MIGRATIONS {
        let mut tx = db.begin().await?;
        let applied: Option<String> = super::on_tx!(&mut tx, c => {
            sqlx::query_scalar("SELECT name FROM schema_migrations WHERE name = $1")
                .bind(*name)
                .fetch_optional(&mut *c)
                .await?
        });
        if applied.is_some() {
            continue;
        }
        let now = super::now().to_rfc3339();
        match tx.conn() {
            super::TxConn::Sqlite(t) => {
                sqlx::raw_sql(AssertSqlSafe(*sqlite_sql))
                    .execute(&mut **t)
                    .await?;
            }
            super::TxConn::Postgres(t) => {
                sqlx::raw_sql(AssertSqlSafe(*pg_sql))
                    .execute(&mut **t)
                    .await?;
            }
        }
        super::on_tx!(&mut tx, c => {
            sqlx::query("INSERT INTO schema_migrations (name, applied_at) VALUES ($1, $2)")
                .bind(*name)
                .bind(&now)
                .execute(&mut *c)
                .await?;
        });
        tx.commit().await?;
        ran += 1;
    }
    super::catalogue::seed_if_empty(db).await?;
    Ok(ran)
}

/// Every table and its columns (sorted), to compare the two backends.
pub async fn schema(db: &Db) -> anyhow::Result<Vec<(String, Vec<String>)>> {
    let rows: Vec<(String, String)> = match db.pool() {
        super::Pool::Sqlite(p) => {
            sqlx::query_as(
                "SELECT m.name, c.name FROM sqlite_master m JOIN pragma_table_info(m.name) c \
                 WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'",
            )
            .fetch_all(p)
            .await?
        }
        super::Pool::Postgres(p) => {
            sqlx::query_as(
                "SELECT table_name::text, column_name::text FROM information_schema.columns \
                 WHERE table_schema = current_schema()",
            )
            .fetch_all(p)
            .await?
        }
    };
    let mut map: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for (t, c) in rows {
        map.entry(t).or_default().push(c);
    }
    Ok(map
        .into_iter()
        .map(|(t, mut cols)| {
            cols.sort();
            (t, cols)
        })
        .collect())
}
