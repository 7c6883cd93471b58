//! Files as lists show them: name, size in words, whether a page can preview it.

use uuid::Uuid;

use crate::db::submissions::FileRow;

/// A file as lists show it.
pub struct FileItem {
    pub id: Uuid,
    pub name: String,
    pub role: String,
    pub size: String,
    pub sha256: String,
    /// `image` or `pdf` when it can be previewed in the page.
    pub preview: Option<&'static str>,
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
