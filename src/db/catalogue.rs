//! The revisioned requirement catalogue.

use chrono::{DateTime, Utc};

use super::{Db, Tx, on_db, on_tx};
use crate::domain::catalogue::{self, CatalogueItem, ConnectionForm, ScopeKind, Trigger};

/// A catalogue revision with its items, in order.
#[derive(Debug, Clone)]
pub struct Catalogue {
    pub revision: i64,
    pub items: Vec<CatalogueItem>,
}

impl Catalogue {
    /// "7.4.1(3) Antivirus": an item's number and title in `lang`; the key if unknown.
    pub fn item_title(&self, key: &str, lang: &str) -> String {
        self.items
            .iter()
            .find(|i| i.key == key)
            .map(|i| format!("{} {}", i.number, i.title(lang)))
            .unwrap_or(key.to_string())
    }
}

#[derive(sqlx::FromRow)]
struct ItemRow {
    key: String,
    number: String,
    title_ja: String,
    title_en: String,
    explanation_ja: String,
    explanation_en: String,
    forms: String,
    scopes: String,
    trigger_kind: String,
    renewal_days: Option<i64>,
}

fn to_item(r: ItemRow) -> CatalogueItem {
    CatalogueItem {
        key: r.key,
        number: r.number,
        title_ja: r.title_ja,
        title_en: r.title_en,
        explanation_ja: r.explanation_ja,
        explanation_en: r.explanation_en,
        forms: r
            .forms
            .split(',')
            .filter_map(ConnectionForm::parse)
            .collect(),
        scopes: r.scopes.split(',').filter_map(ScopeKind::parse).collect(),
        trigger: Trigger::parse(&r.trigger_kind).unwrap_or(Trigger::Always),
        renewal_days: r.renewal_days,
    }
}

/// A published revision.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RevisionRow {
    pub revision: i64,
    pub published_at: DateTime<Utc>,
    /// Who published it (a name; [`BUNDLED`] for the first revision).
    pub published_by: String,
    pub note: String,
}

/// Stores a new revision (number = previous + 1) with its items; answers its number.
pub async fn publish(
    tx: &mut Tx,
    items: &[CatalogueItem],
    note: &str,
    by: &str,
) -> Result<i64, sqlx::Error> {
    let now = super::now();
    on_tx!(tx, c => {
        let next: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(revision), 0) + 1 FROM catalogue_revisions")
            .fetch_one(&mut *c)
            .await?;
        sqlx::query("INSERT INTO catalogue_revisions (revision, published_at, published_by, note) VALUES ($1, $2, $3, $4)")
            .bind(next)
            .bind(now)
            .bind(by)
            .bind(note)
            .execute(&mut *c)
            .await?;
        for (pos, it) in items.iter().enumerate() {
            let forms: Vec<&str> = it.forms.iter().map(|f| f.as_str()).collect();
            let scopes: Vec<&str> = it.scopes.iter().map(|s| s.as_str()).collect();
            sqlx::query(
                "INSERT INTO catalogue_items (revision, key, position, number, title_ja, title_en, explanation_ja, \
                 explanation_en, forms, scopes, trigger_kind, renewal_days) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            )
            .bind(next)
            .bind(&it.key)
            .bind(pos as i64)
            .bind(&it.number)
            .bind(&it.title_ja)
            .bind(&it.title_en)
            .bind(&it.explanation_ja)
            .bind(&it.explanation_en)
            .bind(forms.join(","))
            .bind(scopes.join(","))
            .bind(it.trigger.as_str())
            .bind(it.renewal_days)
            .execute(&mut *c)
            .await?;
        }
        Ok(next)
    })
}

/// Loads revision 1 from the repository's catalogue file when the database has none.
pub async fn seed_if_empty(db: &Db) -> anyhow::Result<()> {
    let mut tx = db.begin().await?;
    let count: i64 = on_tx!(&mut tx, c => sqlx::query_scalar("SELECT COUNT(*) FROM catalogue_revisions").fetch_one(&mut *c).await)?;
    if count == 0 {
        let file = catalogue::parse_file(catalogue::FIRST_REVISION)
            .map_err(|e| anyhow::anyhow!("{BUNDLED}: {e}"))?;
        publish(&mut tx, &file.item, &file.note, BUNDLED).await?;
        tx.commit().await?;
    }
    Ok(())
}

/// The items of one revision.
pub async fn revision(db: &Db, revision: i64) -> Result<Catalogue, sqlx::Error> {
    let rows: Vec<ItemRow> = on_db!(db, p => sqlx::query_as::<_, ItemRow>(
        "SELECT key, number, title_ja, title_en, explanation_ja, explanation_en, forms, scopes, trigger_kind, renewal_days \
         FROM catalogue_items WHERE revision = $1 ORDER BY position",
    )
    .bind(revision)
    .fetch_all(p)
    .await)?;
    Ok(Catalogue {
        revision,
        items: rows.into_iter().map(to_item).collect(),
    })
}

/// The newest revision's number.
pub async fn current_revision(db: &Db) -> Result<i64, sqlx::Error> {
    on_db!(db, p => sqlx::query_scalar("SELECT COALESCE(MAX(revision), 0) FROM catalogue_revisions").fetch_one(p).await)
}

/// The newest revision.
pub async fn current(db: &Db) -> Result<Catalogue, sqlx::Error> {
    revision(db, current_revision(db).await?).await
}

/// The publisher recorded for the first revision: the catalogue the portal is built with.
pub const BUNDLED: &str = "catalogue/naccs-7.4.toml";

/// Every revision, newest first, each with its publisher's name (the e-mail it was published
/// under when no user has it any more).
pub async fn revisions(db: &Db) -> Result<Vec<RevisionRow>, sqlx::Error> {
    on_db!(db, p => sqlx::query_as::<_, RevisionRow>(
        "SELECT r.revision, r.published_at, COALESCE(u.display_name, r.published_by) AS published_by, r.note \
         FROM catalogue_revisions r LEFT JOIN users u ON u.email = r.published_by ORDER BY r.revision DESC",
    )
    .fetch_all(p)
    .await)
}
