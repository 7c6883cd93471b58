//! Files of a draft: an upload streamed into the file store and attached (with its audit
//! entry) in one step, and removing a file from a draft.

use bytes::Bytes;
use futures_util::Stream;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Place, ReportKind, draft_at, reporting_org};
use crate::app::{Actor, App, Error};
use crate::db;
use crate::db::submissions::Attach;
use crate::domain::Scope;
use crate::domain::gatewaylog::Refused as LogRefused;
use crate::files::{Kind, UploadError, is_disk_full, sniff};

/// Whether a file role takes a type of file.
pub fn role_accepts(role: &str, kind: Kind) -> bool {
    match role {
        "diagram" => matches!(
            kind,
            Kind::Pdf | Kind::Png | Kind::Jpeg | Kind::Svg | Kind::Vsdx
        ),
        "equipment_list" => matches!(kind, Kind::Xlsx | Kind::Csv),
        "evidence" => !matches!(kind, Kind::Svg | Kind::Vsdx | Kind::Gzip | Kind::Zip),
        "logs" => matches!(
            kind,
            Kind::Csv | Kind::Tsv | Kind::Txt | Kind::Gzip | Kind::Zip
        ),
        _ => false,
    }
}

/// What [`upload`] takes besides the bytes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UploadInput {
    pub place: Place,
    /// The file's role in the report (`diagram`, `equipment_list`, `evidence`, `logs`).
    pub role: String,
    /// The file's name as the sender gave it (checked by the store).
    pub name: String,
}

/// A file attached to a draft.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Uploaded {
    pub submission: Uuid,
    pub name: String,
    pub sha256: String,
    pub size: u64,
    pub role: String,
    /// A gateway log whose columns wait for the site's mapping.
    #[serde(default)]
    pub needs_mapping: bool,
}

/// Why a file was not attached. The first three are the sender's to fix and leave the other
/// files of a batch free to go on; the rest stop a batch.
#[derive(Debug, thiserror::Error)]
pub enum UploadFailure {
    /// The draft holds the most files allowed.
    #[error("too many files")]
    TooMany { max: usize },
    /// The store refused the file (name, type, content); a locale key.
    #[error("refused: {0}")]
    Refused(&'static str),
    /// A gateway log the Table 7-4-2 check does not take.
    #[error("log refused")]
    Log(LogRefused),
    /// The Center's request for these logs is not open yet: nothing is taken for it before
    /// `opens`.
    #[error("request not open yet")]
    NotOpen {
        opens: chrono::NaiveDate,
        due: chrono::NaiveDate,
    },
    /// The store is out of space: nothing of this file was kept.
    #[error("file store full")]
    DiskFull,
    /// The sender's body ended or broke mid-file.
    #[error("interrupted")]
    Interrupted,
    #[error(transparent)]
    Failed(#[from] Error),
}

impl From<sqlx::Error> for UploadFailure {
    fn from(e: sqlx::Error) -> Self {
        UploadFailure::Failed(e.into())
    }
}

/// Runs one database step within the request timeout (an upload as a whole is not bounded).
async fn bounded<T>(
    app: &App,
    step: impl std::future::Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    tokio::time::timeout(app.config.request_timeout, step)
        .await
        .unwrap_or(Err(Error::Unavailable))
}

/// Streams one file into the store and attaches it to the open draft of the place (opened if
/// needed), with its audit entry; a gateway log is checked against Table 7-4-2 on the way in
/// and the check kept with it. The per-draft file limit holds under parallel uploads (the
/// draft's row is locked while counting).
pub async fn upload<S, E>(
    app: &App,
    actor: &Actor,
    input: UploadInput,
    body: S,
) -> Result<Uploaded, UploadFailure>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let place = input.place;
    let org_id = place.org;
    bounded(app, reporting_org(app, actor, org_id)).await?;
    if !place.kind.file_roles().contains(&input.role.as_str()) {
        return Err(Error::field("role", "error.file_wrong_role").into());
    }
    if place.kind == ReportKind::GatewayLogs {
        // A request's window: before it opens, nothing is taken for it.
        let request = bounded(app, async {
            Ok(
                db::followup::open_request_for(&app.db, org_id, place.kind.as_str(), place.site)
                    .await?,
            )
        })
        .await?;
        if let Some(r) = request
            && let Some(opens) = r.opens_on
            && opens > crate::domain::dates::today()
        {
            return Err(UploadFailure::NotOpen {
                opens,
                due: r.due_date,
            });
        }
    }
    // What the name alone refuses is refused before a draft is opened for it: a refused file
    // leaves no 下書き behind for the Center to see.
    if let Err(r) = sniff::check_name(&input.name) {
        return Err(UploadFailure::Refused(r.0));
    }
    let Some(k) = sniff::kind_for_name(&input.name) else {
        return Err(UploadFailure::Refused("error.file_type_not_allowed"));
    };
    if !role_accepts(&input.role, k) {
        return Err(UploadFailure::Refused("error.file_wrong_role"));
    }
    // A draft already full refuses the file before its bytes are read; a draft is opened only
    // once the file is taken (a file its content refuses leaves no 下書き either), and the
    // attach counts again under the draft's lock.
    let count = bounded(app, async {
        let open = db::submissions::draft(&app.db, org_id, place.kind.as_str(), place.site).await?;
        Ok(match open {
            Some(d) => db::submissions::files(&app.db, Scope::Org(org_id), d.id)
                .await?
                .len(),
            None => 0,
        })
    })
    .await?;
    if count >= app.files.max_files {
        return Err(UploadFailure::TooMany {
            max: app.files.max_files,
        });
    }
    // Gateway logs have their own size limit and are checked on the way in, their columns
    // read by the site's mapping when it has one.
    let mut site_map = None;
    let received = if place.kind == ReportKind::GatewayLogs {
        site_map = match place.site {
            Some(site) => {
                bounded(
                    app,
                    crate::app::log_mapping::read(app, Scope::Org(org_id), org_id, site),
                )
                .await?
            }
            None => None,
        };
        app.files
            .receive_log(
                &input.name,
                body,
                app.config.max_log_bytes,
                site_map.as_ref().map(|m| m.columns.clone()),
            )
            .await
            .map(|(s, c)| (s, Some(c)))
    } else {
        app.files
            .receive(&input.name, body)
            .await
            .map(|s| (s, None))
    };
    let (stored, check) = match received {
        Ok(r) => r,
        Err(UploadError::TooLarge) => return Err(Error::TooLarge.into()),
        Err(UploadError::Interrupted(_)) => return Err(UploadFailure::Interrupted),
        // A workbook renamed `.csv` on the log page: the advice names what that page takes.
        Err(UploadError::Refused(r))
            if place.kind == ReportKind::GatewayLogs && r.0 == "error.file_content_office" =>
        {
            return Err(UploadFailure::Refused("error.file_content_office_log"));
        }
        Err(UploadError::Refused(r))
            if place.kind == ReportKind::GatewayLogs && r.0 == "error.file_content_not_text" =>
        {
            return Err(UploadFailure::Refused("error.file_content_not_text_log"));
        }
        Err(UploadError::Refused(r)) => return Err(UploadFailure::Refused(r.0)),
        Err(UploadError::Log(r)) => return Err(UploadFailure::Log(r)),
        Err(UploadError::Io(e)) if is_disk_full(&e) => {
            tracing::error!(error = %format!("{e:#}"), "upload stopped: the file store is full");
            return Err(UploadFailure::DiskFull);
        }
        Err(UploadError::Io(e)) => return Err(Error::Internal(e).into()),
    };
    let role = input.role;
    let submission = bounded(app, draft_at(app, actor, &place)).await?;
    let attached = bounded(app, async {
        let mut tx = app.db.begin().await?;
        let attached = db::submissions::attach_file(
            &mut tx,
            org_id,
            submission,
            &stored.sha256,
            stored.size,
            &role,
            &stored.name,
            stored.kind.mime(),
            app.files.max_files,
        )
        .await?;
        if attached == Attach::Attached {
            if let Some(c) = &check {
                let json = serde_json::to_string(c).map_err(|e| Error::Internal(e.into()))?;
                db::gateway_logs::record_check(&mut tx, org_id, &stored.sha256, &json).await?;
                // The check depends on the site's mapping too: the same content uploaded for
                // another site keeps its own.
                if let Some(site) = place.site {
                    db::gateway_logs::record_site_check(
                        &mut tx,
                        (org_id, site, &stored.sha256),
                        &json,
                        site_map.as_ref().map_or(0, |m| m.version),
                        &stored.name,
                    )
                    .await?;
                }
            }
            let mut entry = actor.audit("file.uploaded", Some(org_id), submission.to_string());
            entry.detail = serde_json::json!({ "name": stored.name, "sha256": stored.sha256, "size": stored.size, "role": role });
            db::audit::append(&mut tx, &entry).await?;
            tx.commit().await?;
        }
        Ok(attached)
    })
    .await?;
    match attached {
        Attach::Attached => Ok(Uploaded {
            submission,
            name: stored.name.clone(),
            sha256: stored.sha256.clone(),
            size: stored.size,
            role,
            needs_mapping: check.as_ref().is_some_and(|c| c.needs_mapping()),
        }),
        Attach::NotDraft => Err(Error::Conflict("error.conflict.body").into()),
        // Another upload to the same draft took the last places meanwhile.
        Attach::Full => Err(UploadFailure::TooMany {
            max: app.files.max_files,
        }),
    }
}

/// A file removed from a draft, and where that draft belongs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Removed {
    pub submission: Uuid,
    /// The draft's kind and site (`None` if the file's submission could not be read).
    pub place: Option<Place>,
}

/// Removes a file from a draft of the organisation (a sealed submission's files stay: a
/// conflict), with its audit entry.
pub async fn remove_file(
    app: &App,
    actor: &Actor,
    org_id: Uuid,
    file_id: Uuid,
) -> Result<Removed, Error> {
    reporting_org(app, actor, org_id).await?;
    let file = db::submissions::file(&app.db, Scope::Org(org_id), file_id)
        .await?
        .ok_or(Error::NotFound)?;
    let place = db::submissions::get(&app.db, Scope::Org(org_id), file.submission_id)
        .await?
        .and_then(|s| {
            ReportKind::parse(&s.kind).map(|kind| Place {
                org: org_id,
                kind,
                site: s.location_id.filter(|_| kind.per_site()),
            })
        });
    let mut tx = app.db.begin().await?;
    if !db::submissions::detach_file(&mut tx, org_id, file_id).await? {
        return Err(Error::Conflict("error.conflict.body"));
    }
    let mut entry = actor.audit("file.removed", Some(org_id), file.submission_id.to_string());
    entry.detail = serde_json::json!({ "name": file.name, "sha256": file.sha256 });
    db::audit::append(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(Removed {
        submission: file.submission_id,
        place,
    })
}
