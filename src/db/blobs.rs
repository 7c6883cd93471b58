//! What the database says about stored files and its own schema, for backup, restore and
//! `secportal check`; and the consistent snapshots a backup is taken from.

use std::path::Path;
use std::str::FromStr;

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{PgPool, Postgres, SqlitePool, Transaction};

use super::{Db, on_db};

/// A blob the database refers to, with one row that names it (for messages).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BlobRef {
    pub sha256: String,
    pub size: i64,
    /// The table of the naming row: `submission_files` or `instruction_files`.
    pub place: String,
    /// The file name that row shows.
    pub name: String,
    /// How many rows refer to it.
    pub uses: i64,
}

/// Every table whose rows point at a blob (`sha256 … REFERENCES blobs`). The `blobs` table
/// itself is a catalogue of sizes that outlives its files (a removed draft file's blob is
/// swept), so it is not a reference.
const REFERENCED: &str = "SELECT sha256, MIN(size) AS size, MIN(place) AS place, MIN(name) AS name, COUNT(*) AS uses FROM (\
     SELECT sha256, size, 'submission_files' AS place, name FROM submission_files \
     UNION ALL SELECT sha256, size, 'instruction_files' AS place, name FROM instruction_files\
     ) r GROUP BY sha256 ORDER BY sha256";

const SCHEMA_VERSION: &str = "SELECT COALESCE(MAX(name), '') FROM schema_migrations";

/// Every blob some row refers to.
pub async fn referenced(db: &Db) -> Result<Vec<BlobRef>, sqlx::Error> {
    on_db!(db, p => sqlx::query_as::<_, BlobRef>(REFERENCED).fetch_all(p).await)
}

/// The newest migration applied (migration names sort in order).
pub async fn schema_version(db: &Db) -> Result<String, sqlx::Error> {
    on_db!(db, p => sqlx::query_scalar::<_, String>(SCHEMA_VERSION).fetch_one(p).await)
}

/// Writes a consistent copy of a live SQLite database to `dest` (which must not exist).
pub async fn sqlite_vacuum_into(pool: &SqlitePool, dest: &Path) -> Result<(), sqlx::Error> {
    let dest = dest.to_string_lossy().to_string();
    sqlx::query("VACUUM INTO $1")
        .bind(dest)
        .execute(pool)
        .await
        .map(|_| ())
}

/// Opens a SQLite file read-only and unchanged (a backup's snapshot: no WAL files appear).
pub async fn open_sqlite_readonly(path: &Path) -> Result<Db, sqlx::Error> {
    let opts = SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .immutable(true);
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(opts)
        .await?;
    Ok(Db::from_pool(super::Pool::Sqlite(pool)))
}

/// The database file a SQLite URL names.
pub fn sqlite_file(url: &str) -> Result<std::path::PathBuf, sqlx::Error> {
    Ok(SqliteConnectOptions::from_str(url)?
        .get_filename()
        .to_path_buf())
}

/// How many tables the current schema of a PostgreSQL database has (0: empty).
pub async fn pg_table_count(pool: &PgPool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema()",
    )
    .fetch_one(pool)
    .await
}

/// A PostgreSQL snapshot held open (repeatable read) and exported, so `pg_dump --snapshot`
/// and the reads below see exactly the same database.
pub struct PgSnapshot {
    tx: Transaction<'static, Postgres>,
    /// What `pg_dump --snapshot` takes.
    pub id: String,
}

impl PgSnapshot {
    /// Begins a read-only repeatable-read transaction and exports its snapshot.
    pub async fn begin(pool: &PgPool) -> Result<PgSnapshot, sqlx::Error> {
        let mut tx = pool
            .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .await?;
        let id: String = sqlx::query_scalar("SELECT pg_export_snapshot()")
            .fetch_one(&mut *tx)
            .await?;
        Ok(PgSnapshot { tx, id })
    }

    /// Every blob the snapshot refers to.
    pub async fn referenced(&mut self) -> Result<Vec<BlobRef>, sqlx::Error> {
        sqlx::query_as::<_, BlobRef>(REFERENCED)
            .fetch_all(&mut *self.tx)
            .await
    }

    /// The snapshot's newest migration.
    pub async fn schema_version(&mut self) -> Result<String, sqlx::Error> {
        sqlx::query_scalar::<_, String>(SCHEMA_VERSION)
            .fetch_one(&mut *self.tx)
            .await
    }

    /// Ends the transaction (the exported snapshot stops being importable).
    pub async fn end(self) -> Result<(), sqlx::Error> {
        self.tx.rollback().await
    }
}
