//! 証跡パッケージ: a ZIP of one sealed submission, or of every sealed submission of an
//! organisation, with each version's files, its sealed snapshot (JSON), its receipt (HTML) and
//! a `manifest.json` listing every other entry's SHA-256 and size. Written as a stream (files
//! are read from the store chunk by chunk), audited. Center staff, and the organisation for
//! its own submissions; another organisation's id answers 404.

use std::io::Write;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use bytes::Bytes;
use futures_util::TryStreamExt;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;
use uuid::Uuid;
use zip::write::SimpleFileOptions;

use crate::app;
use crate::app::orgs::OrgRow;
use crate::i18n::Tr;
use crate::web::ctx::{Ctx, CurrentUser};
use crate::web::download::{self, ChannelWriter};
use crate::web::error::AppResult;
use crate::web::html::submissions::receipt::sealed_as;
use crate::web::page::jst;
use crate::web::state::AppState;

/// What the async reader hands the ZIP writer.
enum Part {
    /// A new entry: its path and whether to deflate it.
    Entry(String, bool),
    Data(Bytes),
    Failed(anyhow::Error),
}

/// One manifest line.
#[derive(serde::Serialize)]
struct Listed {
    path: String,
    sha256: String,
    size: u64,
}

/// The receipt as it goes into the package: a page of its own, no scripts, no session.
#[derive(Template)]
#[template(path = "exports/receipt.html")]
struct ReceiptPage {
    t: Tr,
    receipt_no: String,
    org_name: String,
    org_code: String,
    item: String,
    revision: i64,
    version: i64,
    submitted_at: String,
    submitter: String,
    note: String,
    files: Vec<(String, String, i64)>,
    decision: Option<(String, String)>,
}

/// `GET /orgs/{org}/submissions/{id}/evidence.zip`
pub async fn submission(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path((org_id, id)): Path<(Uuid, Uuid)>,
) -> AppResult<Response> {
    let p = app::evidence::open(&state, &me.actor(&ctx), org_id, Some(id)).await?;
    package(state, ctx, p).await
}

/// `GET /orgs/{org}/evidence.zip`: every sealed submission of the organisation.
pub async fn organisation(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Path(org_id): Path<Uuid>,
) -> AppResult<Response> {
    let p = app::evidence::open(&state, &me.actor(&ctx), org_id, None).await?;
    package(state, ctx, p).await
}

/// Streams the package's ZIP.
async fn package(state: Arc<AppState>, ctx: Ctx, p: app::evidence::Package) -> AppResult<Response> {
    let app::evidence::Package { org, ids, name } = p;
    let stamp = (chrono::Utc::now() + chrono::Duration::hours(9)).format("%Y%m%d-%H%M");
    let (chunks, response) =
        download::attachment("application/zip", &format!("evidence-{name}-{stamp}.zip"));
    let (tx, rx) = mpsc::channel::<Part>(8);
    tokio::task::spawn_blocking(move || {
        let errors = chunks.clone();
        if let Err(e) = write_zip(ChannelWriter::new(chunks), rx) {
            download::fail(&errors, &e);
        }
    });
    let t = ctx.tr();
    tokio::spawn(async move {
        if let Err(e) = read_parts(&state, t, &org, &ids, &tx).await {
            let _ = tx.send(Part::Failed(e)).await;
        }
    });
    Ok(response)
}

/// Writes the entries as they come, hashing each; the manifest goes last.
fn write_zip(out: ChannelWriter, mut rx: mpsc::Receiver<Part>) -> anyhow::Result<()> {
    let mut zip = zip::ZipWriter::new_stream(out);
    let mut listed: Vec<Listed> = vec![];
    let mut current: Option<(String, Sha256, u64)> = None;
    let close = |current: &mut Option<(String, Sha256, u64)>, listed: &mut Vec<Listed>| {
        if let Some((path, hash, size)) = current.take() {
            listed.push(Listed {
                path,
                sha256: hex::encode(hash.finalize()),
                size,
            });
        }
    };
    while let Some(part) = rx.blocking_recv() {
        match part {
            Part::Entry(path, deflate) => {
                close(&mut current, &mut listed);
                let method = if deflate {
                    zip::CompressionMethod::Deflated
                } else {
                    zip::CompressionMethod::Stored
                };
                zip.start_file(
                    path.as_str(),
                    SimpleFileOptions::default()
                        .compression_method(method)
                        .large_file(true),
                )?;
                current = Some((path, Sha256::new(), 0));
            }
            Part::Data(bytes) => {
                let Some((_, hash, size)) = current.as_mut() else {
                    anyhow::bail!("data before an entry");
                };
                hash.update(&bytes);
                *size += bytes.len() as u64;
                zip.write_all(&bytes)?;
            }
            Part::Failed(e) => return Err(e),
        }
    }
    close(&mut current, &mut listed);
    let manifest = serde_json::json!({
        "format": "secportal-evidence/1",
        "generated_at": chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "files": listed,
    });
    zip.start_file(
        "manifest.json",
        SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated),
    )?;
    zip.write_all(&serde_json::to_vec_pretty(&manifest)?)?;
    let mut out = zip.finish()?.into_inner();
    out.flush()?;
    Ok(())
}

/// A file name safe as one path segment inside the ZIP.
fn segment(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_control() || "/\\:*?\"<>|".contains(c) {
                '_'
            } else {
                c
            }
        })
        .collect();
    match s.trim_matches(['.', ' ']) {
        "" => "file".into(),
        s => s.to_string(),
    }
}

/// Reads each submission's parts and hands them to the writer in order.
async fn read_parts(
    state: &AppState,
    t: Tr,
    org: &OrgRow,
    ids: &[Uuid],
    tx: &mpsc::Sender<Part>,
) -> anyhow::Result<()> {
    let send = |p: Part| async move {
        tx.send(p)
            .await
            .map_err(|_| anyhow::anyhow!("the writer stopped"))
    };
    for id in ids {
        let Some(sealed) = app::evidence::sealed(state, org.id, *id).await? else {
            continue;
        };
        let app::evidence::Sealed {
            row: s,
            receipt_no,
            snapshot,
            files,
            decision,
            catalogue,
        } = sealed;
        let dir = segment(&receipt_no);
        for (n, f) in files.iter().enumerate() {
            send(Part::Entry(
                format!("{dir}/files/{:02}_{}", n + 1, segment(&f.name)),
                false,
            ))
            .await?;
            let mut body = state.files.read(&f.sha256).await?;
            while let Some(chunk) = body.try_next().await? {
                send(Part::Data(chunk)).await?;
            }
        }
        send(Part::Entry(format!("{dir}/snapshot.json"), true)).await?;
        send(Part::Data(Bytes::from(snapshot.clone()))).await?;
        let snap: serde_json::Value = serde_json::from_str(&snapshot).unwrap_or_default();
        let page = ReceiptPage {
            t,
            receipt_no: receipt_no.clone(),
            org_name: sealed_as(&snap["org"]["name"], org.name.clone()),
            org_code: sealed_as(&snap["org"]["user_code"], org.user_code.clone()),
            item: catalogue.item_title(&s.kind, t.code()),
            revision: s.catalogue_revision,
            version: s.version,
            submitted_at: s.submitted_at.map(|at| jst(&at)).unwrap_or_default(),
            submitter: format!(
                "{} <{}>",
                snap["submitter"]["name"].as_str().unwrap_or(""),
                snap["submitter"]["email"].as_str().unwrap_or("")
            ),
            note: snap["data"]["note"].as_str().unwrap_or("").to_string(),
            files: files
                .iter()
                .map(|f| (f.name.clone(), f.sha256.clone(), f.size))
                .collect(),
            decision: decision.map(|d| {
                (
                    t.t(&format!("checklist.status.{}", d.decision)).to_string(),
                    d.reason,
                )
            }),
        };
        send(Part::Entry(format!("{dir}/receipt.html"), true)).await?;
        send(Part::Data(Bytes::from(page.render()?))).await?;
    }
    Ok(())
}
