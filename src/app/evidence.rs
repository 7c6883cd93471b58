//! 証跡パッケージ reads: which sealed submissions a package holds (one, or every one of an
//! organisation), its audit entry, and each version's parts as the ZIP writer takes them.
//! Center staff, and the organisation for its own submissions; another organisation's id is
//! not found. The page (`web/html/evidence.rs`) writes the ZIP from these.

use std::sync::Arc;

use uuid::Uuid;

use super::{Actor, App, Error};
use crate::db;
use crate::db::catalogue::Catalogue;
use crate::db::orgs::OrgRow;
use crate::db::review::DecisionRow;
use crate::db::submissions::{FileRow, SubmissionRow};
use crate::domain::Scope;

/// What a package holds.
#[derive(Debug)]
pub struct Package {
    pub org: OrgRow,
    /// The sealed submissions, in the order they are written.
    pub ids: Vec<Uuid>,
    /// The package's name part: the receipt number, or the organisation's user code.
    pub name: String,
}

/// Opens a package of one sealed submission (`one`) or of every sealed submission of the
/// organisation, with its audit entry (`evidence.downloaded`). A draft is not found.
pub async fn open(
    app: &App,
    actor: &Actor,
    org_id: Uuid,
    one: Option<Uuid>,
) -> Result<Package, Error> {
    let org = db::orgs::get(&app.db, actor.scope(), org_id)
        .await?
        .ok_or(Error::NotFound)?;
    let scope = Scope::Org(org.id);
    let (ids, name, target) = match one {
        Some(id) => {
            let s = db::submissions::get(&app.db, scope, id)
                .await?
                .ok_or(Error::NotFound)?;
            let receipt = s.receipt_no.ok_or(Error::NotFound)?;
            (vec![id], receipt, id.to_string())
        }
        None => (
            db::exports::sealed(&app.db, scope).await?,
            org.user_code.clone(),
            org.id.to_string(),
        ),
    };
    let mut entry = actor.audit("evidence.downloaded", Some(org.id), target);
    entry.detail = serde_json::json!({ "submissions": ids.len() });
    db::audit::append_alone(&app.db, &entry).await?;
    Ok(Package { org, ids, name })
}

/// One sealed version as the package writes it.
pub struct Sealed {
    pub row: SubmissionRow,
    pub receipt_no: String,
    /// The sealed snapshot (JSON text).
    pub snapshot: String,
    pub files: Vec<FileRow>,
    pub decision: Option<DecisionRow>,
    /// The catalogue revision it was sealed under (its item's title).
    pub catalogue: Arc<Catalogue>,
}

/// A sealed version of the package's organisation (`None`: gone or not sealed).
pub async fn sealed(app: &App, org_id: Uuid, id: Uuid) -> Result<Option<Sealed>, Error> {
    let scope = Scope::Org(org_id);
    let Some(row) = db::submissions::get(&app.db, scope, id).await? else {
        return Ok(None);
    };
    let (Some(receipt_no), Some(snapshot)) = (row.receipt_no.clone(), row.snapshot.clone()) else {
        return Ok(None);
    };
    Ok(Some(Sealed {
        files: db::submissions::files(&app.db, scope, id).await?,
        decision: db::review::decision(&app.db, scope, id).await?,
        catalogue: app.catalogue_revision(row.catalogue_revision).await?,
        row,
        receipt_no,
        snapshot,
    }))
}
