//! Files as pages list them, and sending a stored file (attachment or inline preview), each
//! download recorded in the audit trail.

use axum::body::Body;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use uuid::Uuid;

use crate::app;
use crate::app::submissions::forms::FileRow;
use crate::web::ctx::{Ctx, CurrentUser};
use crate::web::error::{AppError, AppResult};
use crate::web::state::AppState;

/// A file as lists show it.
pub struct FileItem {
    pub id: Uuid,
    pub name: String,
    pub role: String,
    pub size: String,
    pub sha256: String,
    /// `image` or `pdf` when it can be previewed in the page.
    pub preview: Option<&'static str>,
    /// Carried over from the last accepted report (引き継ぎ).
    pub carried: bool,
    /// Whether it belongs to an open draft (else it is listed as what a new draft would
    /// start from, and cannot be removed).
    pub in_draft: bool,
}

/// A submission's file as listed.
pub fn file_item(f: FileRow) -> FileItem {
    item(f.id, f.name, f.role, &f.mime, f.size, f.sha256)
}

/// A sealed file as listed on the review page.
pub fn sealed_file_item(f: crate::app::review::SealedFile) -> FileItem {
    item(f.id, f.name, f.role, &f.mime, f.size, f.sha256)
}

fn item(id: Uuid, name: String, role: String, mime: &str, size: i64, sha256: String) -> FileItem {
    FileItem {
        preview: match mime {
            "application/pdf" => Some("pdf"),
            m if previewable(m) => Some("image"),
            _ => None,
        },
        id,
        name,
        role,
        size: human_size(size),
        sha256,
        carried: false,
        in_draft: true,
    }
}

impl FileItem {
    /// The first characters of the SHA-256, enough to tell files apart on a page (the whole
    /// value is on the receipt and in the element's title).
    pub fn sha_short(&self) -> &str {
        self.sha256.get(..12).unwrap_or(&self.sha256)
    }
}

/// 1,234 KB style sizes.
pub fn human_size(bytes: i64) -> String {
    if bytes < 1024 {
        format!("{bytes} B")
    } else if bytes < 1024 * 1024 {
        format!("{:.1} KB", bytes as f64 / 1024.0)
    } else {
        format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
    }
}

/// Whether a stored type may be shown inside a page (images, PDFs) rather than only saved.
pub fn previewable(mime: &str) -> bool {
    matches!(mime, "application/pdf" | "image/png" | "image/jpeg")
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

/// An import template for download: the column headings in the page's language (locale keys
/// `{prefix}.{field}`), one sample row, UTF-8 with a BOM so Excel opens it without mojibake.
pub fn template_csv(
    t: &crate::i18n::Tr,
    fields: &[&str],
    prefix: &str,
    sample: &str,
    disposition: &'static str,
) -> Response {
    let header: Vec<String> = fields
        .iter()
        .map(|f| t.f(&format!("{prefix}.{f}"), &[]))
        .collect();
    csv_download(
        format!("\u{feff}{}\r\n{sample}\r\n", header.join(",")),
        disposition,
    )
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
    let served = app::submissions::forms::Served {
        org_id: f.org_id,
        id: f.id,
        sha256: f.sha256,
        name: f.name,
    };
    app::submissions::forms::record_served(state, &me.actor(ctx), served, inline).await?;
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
