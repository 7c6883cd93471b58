//! Item 4 — 利用者側のシステム構成の提出: a draft that collects system configuration diagrams
//! and the equipment list (as files for now), sealed on submit with a receipt number; the
//! printable receipt (受付票); and file downloads for the owning organisation and the Center.

use std::sync::Arc;

use askama::Template;
use axum::body::Body;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use uuid::Uuid;

use super::ctx::{CsrfForm, Ctx, CurrentUser, check_multipart_token, expect_field};
use super::error::{AppError, AppResult};
use super::forms::Nothing;
use super::imports;
use super::page::{Page, jst, redirect_with_flash, render};
use super::state::AppState;
use super::structure::org_for;
use crate::db::submissions::{Attach, FileRow, NewSubmission};
use crate::db::{self, orgs::OrgRow};
use crate::domain::equipment::{self, DEVICE_TYPES, EquipmentRow};
use crate::domain::{Scope, ScopeKind};
use crate::files::{self, Kind, UploadError, sniff};

const KIND: &str = "system_configuration";

/// The file roles a kind of report takes.
fn roles_of(kind: &str) -> &'static [&'static str] {
    match kind {
        "system_configuration" => &["diagram", "equipment_list"],
        "outside_connections" => &["diagram"],
        "inhouse_measures" => &["evidence"],
        "gateway_logs" => &["logs"],
        _ => &[],
    }
}

/// The types each file role accepts.
fn role_accepts(role: &str, kind: Kind) -> bool {
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

pub use crate::web::html::common::files::{FileItem, file_item, human_size, previewable};

#[derive(Template)]
#[template(path = "submissions/system_configuration.html")]
struct ConfigView {
    page: Page,
    /// Why the version this draft revises was returned.
    returned: Option<crate::web::html::common::comments::ReturnNote>,
    org_id: Uuid,
    org_name: String,
    files: Vec<FileItem>,
    problems: Vec<String>,
    note: String,
    can_edit: bool,
    last: Option<(Uuid, String, String)>,
    max_mb: u64,
    max_files: usize,
    equipment: Vec<EqView>,
    locations: Vec<String>,
    device_types: Vec<&'static str>,
}

/// An equipment row as the form shows it.
pub struct EqView {
    pub n: usize,
    pub row: EquipmentRow,
    pub errors: Vec<(&'static str, &'static str)>,
}

impl EqView {
    /// The error of one field, if any.
    pub fn error(&self, field: &str) -> Option<&'static str> {
        self.errors
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, k)| *k)
    }
}

const EQ_BLANK_ROWS: usize = 3;
const EQ_MAX_ROWS: usize = 1000;

/// Active office and gateway-site names: where equipment can stand.
pub async fn location_names(state: &AppState, org_id: Uuid) -> AppResult<Vec<String>> {
    Ok(db::structure::list(&state.db, Some(org_id))
        .await?
        .into_iter()
        .filter(|l| l.active)
        .map(|l| l.name)
        .collect())
}

/// The equipment rows of the current draft, else of the latest submitted configuration.
pub async fn current_equipment(state: &AppState, org_id: Uuid) -> AppResult<Vec<EquipmentRow>> {
    let latest = db::submissions::latest(&state.db, Some(org_id))
        .await?
        .into_iter()
        .find(|s| s.kind == KIND);
    let data = match latest {
        Some(s) => db::submissions::data(&state.db, org_id, s.id)
            .await?
            .unwrap_or_default(),
        None => serde_json::Value::Null,
    };
    Ok(serde_json::from_value(data["equipment"].clone()).unwrap_or_default())
}

async fn config_view(
    state: &AppState,
    ctx: &Ctx,
    me: &CurrentUser,
    org: &OrgRow,
    problems: Vec<String>,
) -> AppResult<ConfigView> {
    config_view_with(state, ctx, me, org, problems, None, None).await
}

async fn config_view_with(
    state: &AppState,
    ctx: &Ctx,
    me: &CurrentUser,
    org: &OrgRow,
    problems: Vec<String>,
    rows: Option<Vec<EqView>>,
    note: Option<String>,
) -> AppResult<ConfigView> {
    let draft = db::submissions::draft(&state.db, org.id, KIND, None).await?;
    let files = match &draft {
        Some(d) => db::submissions::files(&state.db, Scope::Org(org.id), d.id)
            .await?
            .into_iter()
            .map(file_item)
            .collect(),
        None => vec![],
    };
    let data: serde_json::Value = draft
        .as_ref()
        .and_then(|d| serde_json::from_str(&d.data).ok())
        .unwrap_or_default();
    let note = note.unwrap_or_else(|| data["note"].as_str().unwrap_or("").to_string());
    let mut equipment = match rows {
        Some(r) => r,
        None => {
            let stored: Vec<EquipmentRow> = match &draft {
                Some(_) => serde_json::from_value(data["equipment"].clone()).unwrap_or_default(),
                None => current_equipment(state, org.id).await?,
            };
            stored
                .into_iter()
                .enumerate()
                .map(|(n, row)| EqView {
                    n,
                    row,
                    errors: vec![],
                })
                .collect()
        }
    };
    let next = equipment.iter().map(|r| r.n + 1).max().unwrap_or(0);
    equipment.extend((next..next + EQ_BLANK_ROWS).map(|n| EqView {
        n,
        row: EquipmentRow {
            naccs: "yes".into(),
            device_type: "client_pc".into(),
            ..EquipmentRow::default()
        },
        errors: vec![],
    }));
    let last = db::submissions::latest(&state.db, Some(org.id))
        .await?
        .into_iter()
        .find(|s| s.kind == KIND && s.state != "draft")
        .map(|s| {
            (
                s.id,
                s.submitted_at.map(|t| jst(&t)).unwrap_or_default(),
                s.state,
            )
        });
    Ok(ConfigView {
        returned: crate::web::html::common::comments::return_note(
            state,
            org.id,
            draft.as_ref().map(|d| d.id),
        )
        .await?,
        page: Page::new(ctx, Some(me)),
        org_id: org.id,
        org_name: org.name.clone(),
        files,
        problems,
        note,
        can_edit: matches!(
            me.role,
            crate::domain::Role::OrgAdmin
                | crate::domain::Role::OrgMember
                | crate::domain::Role::CenterAdmin
        ) && (me.role.is_center() || me.org_id == Some(org.id)),
        last,
        max_mb: state.files.max_file / (1024 * 1024),
        max_files: state.files.max_files,
        equipment,
        locations: location_names(state, org.id).await?,
        device_types: DEVICE_TYPES.to_vec(),
    })
}

/// Org members may draft and submit reports; Center admins may act for an organisation.
pub async fn org_for_report(state: &AppState, me: &CurrentUser, org_id: Uuid) -> AppResult<OrgRow> {
    let org = org_for(state, me, org_id, false).await?;
    if me.role == crate::domain::Role::Reviewer {
        return Err(AppError::Forbidden);
    }
    Ok(org)
}

/// `GET /orgs/{org}/system-configuration`
pub async fn page(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(org_id): Path<Uuid>,
) -> AppResult<Response> {
    let org = org_for(&state, &me, org_id, false).await?;
    render(
        StatusCode::OK,
        &config_view(&state, &ctx, &me, &org, vec![]).await?,
    )
}

/// The open draft of `kind`, created when there is none.
pub async fn draft_id(
    state: &AppState,
    me: &CurrentUser,
    org_id: Uuid,
    kind: &'static str,
) -> AppResult<Uuid> {
    draft_at(state, me, org_id, kind, None).await
}

/// The open draft of `kind` for a gateway site (`None`: the organisation), created when
/// there is none.
pub async fn draft_at(
    state: &AppState,
    me: &CurrentUser,
    org_id: Uuid,
    kind: &'static str,
    site: Option<Uuid>,
) -> AppResult<Uuid> {
    if let Some(d) = db::submissions::draft(&state.db, org_id, kind, site).await? {
        return Ok(d.id);
    }
    let revision = state.catalogue().await?.revision;
    let new = NewSubmission {
        org_id,
        kind,
        scope_kind: if site.is_some() {
            ScopeKind::GatewaySite
        } else {
            ScopeKind::Organisation
        },
        location_id: site,
        data: serde_json::json!({}),
        catalogue_revision: revision,
        submitted_by: me.id,
    };
    // A draft sealed between our insert and our read is the only way to get `None`: try
    // again, then give up with a conflict rather than loop.
    for _ in 0..3 {
        let mut tx = state.db.begin().await?;
        let id = db::submissions::open_draft(&mut tx, &new).await?;
        tx.commit().await?;
        if let Some(id) = id {
            return Ok(id);
        }
    }
    Err(AppError::Conflict)
}

/// Why an upload form is shown again, and with which status.
pub struct Problems {
    /// 422 for the sender's mistakes; 507 when the server ran out of space.
    pub status: StatusCode,
    pub list: Vec<String>,
}

/// Reads a multipart upload (`csrf_token`, `role`, then `files`) into the open draft of `kind`
/// (created if needed). Answers the redirect back to the form's page (`back`) when files were
/// added, or else the problems for the caller to show on that page. A full disk stops the
/// upload with 507 and says which files were kept and which were not.
#[allow(clippy::too_many_arguments)]
pub async fn receive_files(
    state: &AppState,
    ctx: &Ctx,
    me: &CurrentUser,
    org_id: Uuid,
    kind: &'static str,
    site: Option<Uuid>,
    mut form: Multipart,
    back: &str,
) -> AppResult<Result<Response, Problems>> {
    state.bounded(org_for_report(state, me, org_id)).await?;
    check_multipart_token(&mut form, me).await?;
    let role = expect_field(&mut form, "role")
        .await?
        .text()
        .await
        .map_err(|_| AppError::BadRequest)?;
    if !roles_of(kind).contains(&role.as_str()) {
        return Err(AppError::BadRequest);
    }
    let submission = state
        .bounded(draft_at(state, me, org_id, kind, site))
        .await?;
    let mut count = state
        .bounded(async {
            Ok(db::submissions::files(&state.db, Scope::Org(org_id), submission).await?)
        })
        .await?
        .len();
    let t = ctx.tr();
    let mut problems = vec![];
    let mut added = 0;
    let mut kept: Vec<String> = vec![];
    let mut status = StatusCode::UNPROCESSABLE_ENTITY;
    while let Some(mut field) = form.next_field().await.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::TooLarge
        } else {
            AppError::BadRequest
        }
    })? {
        let Some(raw_name) = field.file_name().map(str::to_string) else {
            continue;
        };
        if raw_name.is_empty() {
            continue;
        }
        let shown: String = raw_name
            .chars()
            .filter(|c| !c.is_control())
            .take(80)
            .collect();
        if count >= state.files.max_files {
            problems.push(t.f(
                "upload.too_many",
                &[
                    ("name", &shown),
                    ("max", &state.files.max_files.to_string()),
                ],
            ));
            break;
        }
        if let Some(k) = sniff::kind_for_name(&raw_name)
            && !role_accepts(&role, k)
        {
            problems.push(t.f(
                "upload.refused",
                &[("name", &shown), ("reason", t.t("error.file_wrong_role"))],
            ));
            continue;
        }
        // Gateway logs have their own size limit and are checked on the way in.
        let received = if kind == "gateway_logs" {
            state
                .files
                .receive_log(&raw_name, Box::pin(&mut field), state.config.max_log_bytes)
                .await
                .map(|(s, c)| (s, Some(c)))
        } else {
            state
                .files
                .receive(&raw_name, Box::pin(&mut field))
                .await
                .map(|s| (s, None))
        };
        match received {
            Ok((stored, check)) => {
                state.metrics.uploaded(stored.size);
                let attached = state
                    .bounded(async {
                        let mut tx = state.db.begin().await?;
                        let attached = db::submissions::attach_file(
                            &mut tx,
                            org_id,
                            submission,
                            &stored.sha256,
                            stored.size,
                            &role,
                            &stored.name,
                            stored.kind.mime(),
                            state.files.max_files,
                        )
                        .await?;
                        if attached == Attach::Attached {
                            if let Some(c) = &check {
                                let json = serde_json::to_string(c)
                                    .map_err(|e| AppError::Internal(e.into()))?;
                                db::gateway_logs::record_check(
                                    &mut tx,
                                    org_id,
                                    &stored.sha256,
                                    &json,
                                )
                                .await?;
                            }
                            let mut entry = me.audit(
                                ctx,
                                "file.uploaded",
                                Some(org_id),
                                submission.to_string(),
                            );
                            entry.detail = serde_json::json!({ "name": stored.name, "sha256": stored.sha256, "size": stored.size, "role": role });
                            db::audit::append(&mut tx, &entry).await?;
                            tx.commit().await?;
                        }
                        Ok(attached)
                    })
                    .await?;
                match attached {
                    Attach::Attached => {}
                    Attach::NotDraft => return Err(AppError::Conflict),
                    // Another upload to the same draft took the last places meanwhile.
                    Attach::Full => {
                        problems.push(t.f(
                            "upload.too_many",
                            &[
                                ("name", &shown),
                                ("max", &state.files.max_files.to_string()),
                            ],
                        ));
                        break;
                    }
                }
                count += 1;
                added += 1;
                kept.push(stored.name);
            }
            Err(UploadError::TooLarge) => return Err(AppError::TooLarge),
            Err(UploadError::Interrupted(_)) => return Err(AppError::BadRequest),
            Err(UploadError::Refused(r)) => {
                problems.push(t.f("upload.refused", &[("name", &shown), ("reason", t.t(r.0))]))
            }
            Err(UploadError::Log(r)) => problems.push(t.f(
                "upload.refused",
                &[
                    ("name", &shown),
                    ("reason", &super::logcheck::refusal(&t, &r)),
                ],
            )),
            Err(UploadError::Io(e)) if files::is_disk_full(&e) => {
                tracing::error!(error = %format!("{e:#}"), "upload stopped: the file store is full");
                drop(field);
                let mut lost = vec![shown];
                lost.extend(drain_file_names(&mut form).await);
                status = StatusCode::INSUFFICIENT_STORAGE;
                problems.push(t.f(
                    "upload.disk_full",
                    &[("names", &lost.join(t.t("ui.list_sep")))],
                ));
                problems.push(if kept.is_empty() {
                    t.t("upload.none_kept").to_string()
                } else {
                    t.f("upload.kept", &[("names", &kept.join(t.t("ui.list_sep")))])
                });
                break;
            }
            Err(UploadError::Io(e)) => return Err(AppError::Internal(e)),
        }
    }
    if problems.is_empty() && added == 0 {
        problems.push(t.t("upload.none").to_string());
    }
    if problems.is_empty() {
        return Ok(Ok(redirect_with_flash(
            back,
            "flash.uploaded",
            state.cookies.secure,
        )));
    }
    Ok(Err(Problems {
        status,
        list: problems,
    }))
}

/// The names of the files still to come in a multipart body, read past without storing
/// them (so the sender can be told which files were not kept).
async fn drain_file_names(form: &mut Multipart) -> Vec<String> {
    let mut names = vec![];
    while let Ok(Some(mut field)) = form.next_field().await {
        if let Some(name) = field.file_name().filter(|n| !n.is_empty()) {
            names.push(name.chars().filter(|c| !c.is_control()).take(80).collect());
        }
        while let Ok(Some(_)) = field.chunk().await {}
    }
    names
}

/// `POST /orgs/{org}/system-configuration/files`
pub async fn upload(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(org_id): Path<Uuid>,
    form: Multipart,
) -> AppResult<Response> {
    let back = format!("/orgs/{org_id}/system-configuration");
    let problems = match receive_files(&state, &ctx, &me, org_id, KIND, None, form, &back).await? {
        Ok(done) => return Ok(done),
        Err(problems) => problems,
    };
    let org = org_for(&state, &me, org_id, false).await?;
    render(
        problems.status,
        &config_view(&state, &ctx, &me, &org, problems.list).await?,
    )
}

/// `POST /orgs/{org}/files/{id}/remove`: only from a draft.
pub async fn remove_file(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path((org_id, id)): Path<(Uuid, Uuid)>,
    CsrfForm(_): CsrfForm<Nothing>,
) -> AppResult<Response> {
    org_for_report(&state, &me, org_id).await?;
    let file = db::submissions::file(&state.db, Scope::Org(org_id), id)
        .await?
        .ok_or(AppError::NotFound)?;
    // Back to the page the file was listed on (a gateway site's log page included).
    let back = match db::submissions::get(&state.db, Scope::Org(org_id), file.submission_id)
        .await?
        .map(|s| (s.kind, s.location_id))
    {
        Some((k, Some(site))) if k == "gateway_logs" => format!("locations/{site}/gateway-logs"),
        Some((k, _)) => crate::web::html::common::comments::draft_page(&k)
            .unwrap_or("system-configuration")
            .to_string(),
        None => "system-configuration".to_string(),
    };
    let mut tx = state.db.begin().await?;
    if !db::submissions::detach_file(&mut tx, org_id, id).await? {
        return Err(AppError::Conflict);
    }
    let mut entry = me.audit(
        &ctx,
        "file.removed",
        Some(org_id),
        file.submission_id.to_string(),
    );
    entry.detail = serde_json::json!({ "name": file.name, "sha256": file.sha256 });
    db::audit::append(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(redirect_with_flash(
        &format!("/orgs/{org_id}/{back}"),
        "flash.file_removed",
        state.cookies.secure,
    ))
}

fn equipment_from_form(
    input: &std::collections::HashMap<String, String>,
) -> Vec<(usize, EquipmentRow)> {
    (0..EQ_MAX_ROWS)
        .map(|n| {
            let get = |f: &str| {
                input
                    .get(&format!("eq_{n}_{f}"))
                    .cloned()
                    .unwrap_or_default()
            };
            (
                n,
                EquipmentRow {
                    device_type: get("device_type"),
                    maker: get("maker"),
                    model: get("model"),
                    os_firmware: get("os_firmware"),
                    quantity: get("quantity"),
                    location: get("location"),
                    role: get("role"),
                    naccs: get("naccs"),
                    notes: get("notes"),
                },
            )
        })
        .filter(|(_, r)| !r.is_blank())
        .collect()
}

/// Saves the draft's note and equipment rows (creating the draft if needed).
async fn save_config(
    state: &AppState,
    ctx: &Ctx,
    me: &CurrentUser,
    org_id: Uuid,
    note: &str,
    rows: &[EquipmentRow],
    action: &'static str,
) -> AppResult<Uuid> {
    let draft = draft_id(state, me, org_id, KIND).await?;
    let mut tx = state.db.begin().await?;
    db::submissions::save_draft(
        &mut tx,
        org_id,
        draft,
        &serde_json::json!({ "note": note, "equipment": rows }),
    )
    .await?;
    db::audit::append(
        &mut tx,
        &me.audit(ctx, action, Some(org_id), draft.to_string()),
    )
    .await?;
    tx.commit().await?;
    Ok(draft)
}

/// `POST /orgs/{org}/system-configuration`: save the draft (note and equipment rows), or
/// check everything and submit.
pub async fn save_or_submit(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(org_id): Path<Uuid>,
    CsrfForm(input): CsrfForm<std::collections::HashMap<String, String>>,
) -> AppResult<Response> {
    let org = org_for_report(&state, &me, org_id).await?;
    let t = ctx.tr();
    let submit = input.get("action").is_some_and(|a| a == "submit");
    let note: String = input
        .get("note")
        .map(|n| n.trim().to_string())
        .unwrap_or_default();
    let locations = location_names(&state, org_id).await?;
    let mut checked = vec![];
    let mut any_error = false;
    for (n, mut row) in equipment_from_form(&input) {
        let errors = equipment::check(&mut row, &locations);
        any_error |= !errors.is_empty();
        checked.push(EqView { n, row, errors });
    }
    let rows: Vec<EquipmentRow> = checked.iter().map(|r| r.row.clone()).collect();
    let mut problems = vec![];
    if note.chars().count() > 4000 {
        problems.push(t.t("error.too_long").to_string());
    }
    if !submit && problems.is_empty() {
        if db::submissions::draft(&state.db, org_id, KIND, None)
            .await?
            .is_none()
            && rows.is_empty()
            && note.is_empty()
        {
            return render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &config_view(
                    &state,
                    &ctx,
                    &me,
                    &org,
                    vec![t.t("submission.need_files").to_string()],
                )
                .await?,
            );
        }
        save_config(
            &state,
            &ctx,
            &me,
            org_id,
            &note,
            &rows,
            "submission.draft_saved",
        )
        .await?;
        return Ok(redirect_with_flash(
            &format!("/orgs/{org_id}/system-configuration"),
            "flash.draft_saved",
            state.cookies.secure,
        ));
    }
    let Some(draft) = db::submissions::draft(&state.db, org_id, KIND, None).await? else {
        // Nothing to submit, or it was just submitted (a double click): show the latest receipt.
        let latest = db::submissions::latest(&state.db, Some(org_id))
            .await?
            .into_iter()
            .find(|s| s.kind == KIND && s.state != "draft");
        return match latest {
            Some(s) => Ok(redirect_with_flash(
                &format!("/orgs/{org_id}/submissions/{}/receipt", s.id),
                "flash.already_submitted",
                state.cookies.secure,
            )),
            None => render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &config_view(
                    &state,
                    &ctx,
                    &me,
                    &org,
                    vec![t.t("submission.need_files").to_string()],
                )
                .await?,
            ),
        };
    };
    let files = db::submissions::files(&state.db, Scope::Org(org_id), draft.id).await?;
    if !files.iter().any(|f| f.role == "diagram") {
        problems.push(t.t("submission.need_diagram").to_string());
    }
    if rows.is_empty() && !files.iter().any(|f| f.role == "equipment_list") {
        problems.push(t.t("submission.need_equipment").to_string());
    }
    if any_error {
        problems.push(t.t("av.fix_rows").to_string());
    }
    // Whatever was typed stays in the draft.
    save_config(
        &state,
        &ctx,
        &me,
        org_id,
        &note,
        &rows,
        "submission.draft_saved",
    )
    .await?;
    if !problems.is_empty() {
        return render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &config_view_with(&state, &ctx, &me, &org, problems, Some(checked), Some(note)).await?,
        );
    }
    seal(
        &state,
        &ctx,
        &me,
        org_id,
        draft.id,
        KIND,
        serde_json::json!({ "equipment_rows": rows.len() }),
    )
    .await
}

/// `POST /orgs/{org}/system-configuration/import`: replaces the draft's equipment rows with a
/// CSV's, only when every line is clean.
pub async fn import_equipment(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(org_id): Path<Uuid>,
    mut form: Multipart,
) -> AppResult<Response> {
    let org = org_for_report(&state, &me, org_id).await?;
    let bytes = read_csv_upload(&mut form, &me).await?;
    let t = ctx.tr();
    let locations = location_names(&state, org_id).await?;
    let names = locations.clone();
    let read = imports::blocking(move || equipment::import(&bytes, &names)).await?;
    let problems = match read {
        Ok(imported) if imported.rows.len() > EQ_MAX_ROWS => {
            vec![t.f("import.too_many_rows", &[("max", &EQ_MAX_ROWS.to_string())])]
        }
        Ok(imported) => {
            let shown = imported
                .rows
                .iter()
                .map(|r| {
                    let mut cells = r.to_cells();
                    cells[0] = t.t(&format!("eq.type.{}", r.device_type)).to_string();
                    cells[7] = t.t(&format!("eq.{}", r.naccs)).to_string();
                    cells
                })
                .zip(&imported.numbers)
                .map(|(cells, n)| (*n, cells))
                .collect();
            return imports::confirm_page(
                &ctx,
                &me,
                imports::Confirm {
                    org_name: org.name.clone(),
                    title_key: "eq.title",
                    sheet: imported.sheet,
                    header_row: imported.header_row,
                    headings: equipment::FIELDS
                        .iter()
                        .map(|f| t.t(&format!("eq.col.{f}")).to_string())
                        .collect(),
                    rows: shown,
                    action: format!("/orgs/{org_id}/system-configuration/import/confirm"),
                    back: format!("/orgs/{org_id}/system-configuration"),
                    payload: imports::payload(
                        imported.rows.iter().map(EquipmentRow::to_cells).collect(),
                    )?,
                },
            );
        }
        Err(failed) => imports::problems(&t, "eq.col", failed, &locations),
    };
    render(
        StatusCode::UNPROCESSABLE_ENTITY,
        &config_view(&state, &ctx, &me, &org, problems).await?,
    )
}

/// `POST /orgs/{org}/system-configuration/import/confirm` (登録): replaces the draft's
/// equipment rows with the rows the confirmation page showed, checked again.
pub async fn confirm_equipment(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(org_id): Path<Uuid>,
    CsrfForm(form): CsrfForm<imports::ConfirmForm>,
) -> AppResult<Response> {
    let org = org_for_report(&state, &me, org_id).await?;
    let locations = location_names(&state, org_id).await?;
    let mut rows: Vec<EquipmentRow> = imports::rows_posted(&form, EQ_MAX_ROWS)?
        .iter()
        .map(|c| EquipmentRow::from_cells(c))
        .collect();
    // Places may have changed since the file was read; a changed row is not stored.
    if rows
        .iter_mut()
        .any(|r| !equipment::check(r, &locations).is_empty())
    {
        let t = ctx.tr();
        return render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &config_view(
                &state,
                &ctx,
                &me,
                &org,
                vec![t.t("import.changed").to_string()],
            )
            .await?,
        );
    }
    let note = match db::submissions::draft(&state.db, org_id, KIND, None).await? {
        Some(d) => serde_json::from_str::<serde_json::Value>(&d.data)
            .ok()
            .and_then(|v| v["note"].as_str().map(str::to_string))
            .unwrap_or_default(),
        None => String::new(),
    };
    save_config(
        &state,
        &ctx,
        &me,
        org_id,
        &note,
        &rows,
        "equipment.imported",
    )
    .await?;
    Ok(redirect_with_flash(
        &format!("/orgs/{org_id}/system-configuration"),
        "flash.imported",
        state.cookies.secure,
    ))
}

/// `GET /orgs/{org}/system-configuration/template.csv`: the equipment list template (UTF-8, BOM).
pub async fn equipment_template(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(org_id): Path<Uuid>,
) -> AppResult<Response> {
    org_for(&state, &me, org_id, false).await?;
    let t = ctx.tr();
    let header: Vec<String> = equipment::FIELDS
        .iter()
        .map(|f| t.f(&format!("eq.col.{f}"), &[]))
        .collect();
    let body = format!(
        "\u{feff}{}\r\n{}\r\n",
        header.join(","),
        t.t("eq.sample_row")
    );
    Ok(csv_download(
        body,
        "attachment; filename=\"equipment-template.csv\"",
    ))
}

/// A CSV answer for download (the body already carries its BOM).
pub fn csv_download(body: String, disposition: &'static str) -> Response {
    let mut res = body.into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    res.headers_mut().insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static(disposition),
    );
    res
}

#[derive(Template)]
#[template(path = "submissions/receipt.html")]
pub struct ReceiptView {
    page: Page,
    org_id: Uuid,
    org_name: String,
    org_code: String,
    receipt_no: String,
    submitted_at: String,
    revision: i64,
    submitter: String,
    /// The declared content in words (the same view the reviewer reads).
    report: super::report::Report,
    /// The current state and its locale key.
    state: String,
    state_key: String,
    /// When this page was made (printed).
    printed_at: String,
    /// The code that proves a printed receipt genuine (see `/review/verify`).
    code: String,
    submission_id: Uuid,
    /// Every version of this submission: (id, version, receipt, status key).
    versions: Vec<(Uuid, i64, String, String)>,
    /// (status key, reason) once the Center decided.
    decision: Option<(String, String)>,
    comments: Vec<crate::web::html::common::comments::CommentItem>,
    pub comment_box: crate::web::html::common::comments::CommentBox,
    can_revise: bool,
}

/// `GET /orgs/{org}/submissions/{id}/receipt`: the printable 受付票.
pub async fn receipt(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path((org_id, id)): Path<(Uuid, Uuid)>,
) -> AppResult<Response> {
    render(
        StatusCode::OK,
        &receipt_view(&state, &ctx, &me, org_id, id).await?,
    )
}

/// The receipt page of a sealed submission of the organisation.
pub async fn receipt_view(
    state: &AppState,
    ctx: &Ctx,
    me: &CurrentUser,
    org_id: Uuid,
    id: Uuid,
) -> AppResult<ReceiptView> {
    let org = org_for(state, me, org_id, false).await?;
    let s = db::submissions::get(&state.db, Scope::Org(org_id), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let (Some(receipt_no), Some(snapshot)) = (s.receipt_no.clone(), s.snapshot.clone()) else {
        return Err(AppError::NotFound);
    };
    let snap: serde_json::Value = serde_json::from_str(&snapshot).map_err(anyhow::Error::from)?;
    let t = ctx.tr();
    let places = super::report::places(state, org_id).await?;
    let report =
        super::report::of_submission(state, t, Scope::Org(org_id), &s, &places, false).await?;
    let series = db::review::series_of(&state.db, Scope::Org(org_id), id)
        .await?
        .unwrap_or(id);
    let versions = db::review::versions(&state.db, Scope::Org(org_id), series).await?;
    // Taken by a reviewer reads as under review, as the organisation's lists say.
    let state_now =
        if s.state == "submitted" && db::review::assignee(&state.db, id).await?.is_some() {
            "under_review".to_string()
        } else {
            s.state.clone()
        };
    let view = ReceiptView {
        page: Page::new(ctx, Some(me)),
        org_id,
        org_name: org.name,
        org_code: org.user_code,
        code: db::receipts::code(&state.db, &receipt_no, &snapshot)?,
        receipt_no,
        submitted_at: s.submitted_at.map(|t| jst(&t)).unwrap_or_default(),
        revision: s.catalogue_revision,
        submitter: format!(
            "{} <{}>",
            snap["submitter"]["name"].as_str().unwrap_or(""),
            snap["submitter"]["email"].as_str().unwrap_or("")
        ),
        report,
        state_key: format!("checklist.status.{state_now}"),
        state: state_now,
        printed_at: jst(&chrono::Utc::now()),
        submission_id: id,
        comments: crate::web::html::common::comments::thread(state, Scope::Org(org_id), id).await?,
        comment_box: crate::web::html::common::comments::CommentBox::new(format!(
            "/orgs/{org_id}/submissions/{id}/comments"
        )),
        can_revise: s.state == "returned"
            && crate::web::html::common::comments::draft_page(&s.kind).is_some()
            && me.role != crate::domain::Role::Reviewer
            && !versions.iter().any(|v| v.1 > s.version),
        versions: versions
            .into_iter()
            .filter_map(|v| {
                v.3.map(|r| (v.0, v.1, r, format!("checklist.status.{}", v.2)))
            })
            .collect(),
        decision: db::review::decision(&state.db, Scope::Org(org_id), id)
            .await?
            .map(|d| (format!("checklist.status.{}", d.decision), d.reason)),
    };
    Ok(view)
}

/// RFC 6266 `Content-Disposition` with an ASCII fallback and the UTF-8 name.
pub fn content_disposition(name: &str) -> String {
    let fallback: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_ ".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = url::form_urlencoded::byte_serialize(name.as_bytes())
        .collect::<String>()
        .replace('+', "%20");
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

/// `GET /files/{id}`: the owning organisation and Center staff only; always an attachment.
pub async fn download(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    let file = db::submissions::file(&state.db, me.scope(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    send_file(&state, &ctx, &me, Served::from(&file), false).await
}

/// `GET /files/{id}/preview`: a PDF or image shown inside the review page (same access as
/// the download; anything else 404).
pub async fn preview(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    let file = db::submissions::file(&state.db, me.scope(), id)
        .await?
        .filter(|f| previewable(&f.mime))
        .ok_or(AppError::NotFound)?;
    send_file(&state, &ctx, &me, Served::from(&file), true).await
}

/// A stored file about to be sent.
pub struct Served<'a> {
    pub org_id: Uuid,
    pub id: Uuid,
    pub sha256: &'a str,
    pub name: &'a str,
    pub mime: &'a str,
    pub size: i64,
}

impl<'a> From<&'a FileRow> for Served<'a> {
    fn from(f: &'a FileRow) -> Self {
        Served {
            org_id: f.org_id,
            id: f.id,
            sha256: &f.sha256,
            name: &f.name,
            mime: &f.mime,
            size: f.size,
        }
    }
}

/// Streams a stored file after recording it in the audit trail. As an attachment it is never
/// rendered by the browser (SVG as bytes, CSP sandbox). `inline` (previewable types only, for
/// this site's own frames and images) lets the browser show it, still with no script, no
/// fetches and no framing by anyone else.
pub async fn send_file(
    state: &AppState,
    ctx: &Ctx,
    me: &CurrentUser,
    f: Served<'_>,
    inline: bool,
) -> AppResult<Response> {
    let inline = inline && previewable(f.mime);
    let stream = state
        .files
        .read(f.sha256)
        .await
        .map_err(AppError::Internal)?;
    let action = if inline {
        "file.previewed"
    } else {
        "file.downloaded"
    };
    let mut entry = me.audit(ctx, action, Some(f.org_id), f.id.to_string());
    entry.detail = serde_json::json!({ "name": f.name, "sha256": f.sha256 });
    db::audit::append_alone(&state.db, &entry).await?;
    let mut res = Body::from_stream(stream).into_response();
    let h = res.headers_mut();
    let mime = if f.mime == "image/svg+xml" {
        "application/octet-stream"
    } else {
        f.mime
    };
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(mime).unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    let disposition = content_disposition(f.name);
    let disposition = if inline {
        disposition.replacen("attachment", "inline", 1)
    } else {
        disposition
    };
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(f.size as u64));
    if inline {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'none'; img-src 'self'; object-src 'self'; frame-ancestors 'self'",
            ),
        );
        h.insert(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("SAMEORIGIN"),
        );
    } else {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("sandbox; default-src 'none'"),
        );
    }
    Ok(res)
}

/// Reads a small CSV upload (multipart: `csrf_token` first, then `file`) into memory; the
/// route's body limit caps it.
pub async fn read_csv_upload(form: &mut Multipart, me: &CurrentUser) -> AppResult<bytes::Bytes> {
    check_multipart_token(form, me).await?;
    expect_field(form, "file")
        .await?
        .bytes()
        .await
        .map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                AppError::TooLarge
            } else {
                AppError::BadRequest
            }
        })
}

/// An uploaded table's first sheet as rows of cells, each with the sheet's own row number
/// (workbooks checked and bounded by `workbook::read`). The error is a locale key.
pub fn read_table(bytes: &[u8]) -> Result<Vec<(usize, Vec<String>)>, &'static str> {
    let mut sheets = crate::domain::workbook::read(bytes)?;
    Ok(if sheets.is_empty() {
        vec![]
    } else {
        sheets
            .swap_remove(0)
            .rows
            .into_iter()
            .map(|r| (r.number, r.cells))
            .collect()
    })
}

/// Seals a draft of the organisation with a receipt (and its audit entry) and answers the
/// redirect to the receipt; a draft sealed meanwhile (double click) goes to the same receipt.
pub async fn seal(
    state: &AppState,
    ctx: &Ctx,
    me: &CurrentUser,
    org_id: Uuid,
    draft: Uuid,
    kind: &str,
    detail: serde_json::Value,
) -> AppResult<Response> {
    let revision = state.catalogue().await?.revision;
    let mut tx = state.db.begin().await?;
    match db::submissions::submit(&mut tx, org_id, draft, me.id, revision).await? {
        Some(receipt) => {
            let mut entry = me.audit(
                ctx,
                "submission.submitted",
                Some(org_id),
                receipt.receipt_no,
            );
            entry.detail =
                serde_json::json!({ "submission": draft, "kind": kind, "detail": detail });
            db::audit::append(&mut tx, &entry).await?;
            tx.commit().await?;
            Ok(redirect_with_flash(
                &format!("/orgs/{org_id}/submissions/{draft}/receipt"),
                "flash.submitted",
                state.cookies.secure,
            ))
        }
        None => Ok(redirect_with_flash(
            &format!("/orgs/{org_id}/submissions/{draft}/receipt"),
            "flash.already_submitted",
            state.cookies.secure,
        )),
    }
}
