//! Column mappings of gateway logs (列の対応づけ, issue 11 item 2): when a site's gateway
//! writes other header names, another order or no header at all, the organisation says once
//! which column holds each field of Table 7-4-2. The mapping is kept per gateway site (a
//! conditional write with its audit entry) and read by the site's next uploads; the log it
//! was made on is read again from the store through the upload's own check, off the request
//! ([`super::log_recheck`]): the re-check is queued in the same transaction as the mapping,
//! and the log cannot be submitted until it has ended.

use uuid::Uuid;

use super::gateway_logs::site_for;
use super::submissions::{ReportKind, reporting_org};
use super::{Actor, App, Error, FieldErrors};
use crate::db;
use crate::domain::Scope;
use crate::domain::gatewaylog::{MapInput, SiteColumns};

/// A gateway site's kept mapping (its columns and the names of the header it was made on) and
/// its version (for the conditional write).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteMapping {
    pub columns: SiteColumns,
    pub version: i64,
}

/// The mapping kept for a gateway site of the organisation, if any.
pub async fn of_site(
    app: &App,
    actor: &Actor,
    org_id: Uuid,
    site: Uuid,
) -> Result<Option<SiteMapping>, Error> {
    site_for(app, actor, org_id, site).await?;
    read(app, actor.scope(), org_id, site).await
}

/// The kept mapping, read within `scope` (an unreadable one counts as none).
pub(crate) async fn read(
    app: &App,
    scope: Scope,
    org_id: Uuid,
    site: Uuid,
) -> Result<Option<SiteMapping>, Error> {
    Ok(db::gateway_logs::mapping(&app.db, scope, org_id, site)
        .await?
        .and_then(|(json, version)| {
            serde_json::from_str::<SiteColumns>(&json)
                .ok()
                .map(|columns| SiteMapping { columns, version })
        }))
}

/// What the mapping form sends: the log it was made on, the columns, and the version of the
/// site's mapping the form was shown with (0: none).
#[derive(Debug, Clone)]
pub struct MapRequest {
    pub org: Uuid,
    pub site: Uuid,
    pub file: Uuid,
    pub input: MapInput,
    pub version: i64,
}

/// Why a mapping was not kept (nothing changed).
#[derive(Debug, thiserror::Error)]
pub enum MapFailure {
    #[error(transparent)]
    Failed(#[from] Error),
}

impl From<sqlx::Error> for MapFailure {
    fn from(e: sqlx::Error) -> Self {
        MapFailure::Failed(e.into())
    }
}

/// The mapping kept, and the log whose re-check is queued.
#[derive(Debug, Clone)]
pub struct Mapped {
    pub file: String,
    pub version: i64,
}

fn internal(e: impl Into<anyhow::Error>) -> MapFailure {
    MapFailure::Failed(Error::Internal(e.into()))
}

/// Keeps the mapping for the site and queues the re-check of the log of the site's open
/// draft it was made on (run it with [`super::log_recheck::kick`]). Refused with field
/// errors: a required field not chosen, a column chosen twice, a column beyond the log's.
/// Another organisation's site or file: not found. The site's mapping changed since the form
/// was shown: a conflict.
pub async fn map_columns(app: &App, actor: &Actor, req: MapRequest) -> Result<Mapped, MapFailure> {
    reporting_org(app, actor, req.org).await?;
    site_for(app, actor, req.org, req.site).await?;
    let scope = Scope::Org(req.org);
    let draft = db::submissions::draft(
        &app.db,
        req.org,
        ReportKind::GatewayLogs.as_str(),
        Some(req.site),
    )
    .await?
    .ok_or(Error::NotFound)?;
    let file = db::submissions::file(&app.db, scope, req.file)
        .await?
        .filter(|f| f.submission_id == draft.id && f.role == "logs")
        .ok_or(Error::NotFound)?;
    let kept = super::gateway_logs::kept_check(app, scope, req.org, Some(req.site), &file.sha256)
        .await?
        .ok_or(Error::NotFound)?;
    let map = req.input.read(kept.check.width()).map_err(|list| {
        let mut errors = FieldErrors::default();
        for (field, key) in list {
            errors.add(field, key);
        }
        Error::Invalid(errors)
    })?;
    // The header's names are kept with the mapping: a later log whose header names the same
    // columns in another order is read by them; one that names others is mapped again.
    let site = SiteColumns::made_on(map, &kept.check.preview);
    let json = serde_json::to_string(&site).map_err(internal)?;
    let result = serde_json::to_string(&kept.check).map_err(internal)?;
    let mut tx = app.db.begin().await?;
    // Only a log still in the open draft is checked again.
    match db::submissions::lock_draft(&mut tx, req.org, draft.id).await? {
        Some((_, files)) if files.iter().any(|f| f.id == file.id) => {}
        _ => return Err(Error::Conflict("error.conflict.body").into()),
    }
    if !db::gateway_logs::save_mapping(&mut tx, req.org, req.site, &json, req.version, actor.id)
        .await?
    {
        return Err(Error::Conflict("gwlog.map.error.changed").into());
    }
    let version = req.version + 1;
    db::gateway_logs::queue_recheck(
        &mut tx,
        (req.org, req.site, &file.sha256),
        &result,
        version,
        &json,
        &file.name,
        actor.id,
    )
    .await?;
    let mut entry = actor.audit("gateway_log.mapped", Some(req.org), req.site.to_string());
    entry.detail = serde_json::json!({
        "file": file.name,
        "sha256": file.sha256,
        "mapping": site.map,
        "version": version,
        "recheck": "queued",
    });
    db::audit::append(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(Mapped {
        file: file.name,
        version,
    })
}
