//! Static files, compiled into the binary so the portal is one file to deploy.

use axum::extract::Path;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use super::error::AppError;

const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "app.css",
        "text/css; charset=utf-8",
        include_bytes!("../../static/app.css"),
    ),
    (
        "favicon.svg",
        "image/svg+xml",
        include_bytes!("../../static/favicon.svg"),
    ),
    (
        "logcheck.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../static/logcheck.js"),
    ),
    (
        "page.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../static/page.js"),
    ),
    (
        "passkey.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../static/passkey.js"),
    ),
    (
        "upload.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../static/upload.js"),
    ),
];

/// `GET /static/{name}`
pub async fn asset(Path(name): Path<String>) -> Result<Response, AppError> {
    let (_, mime, body) = ASSETS
        .iter()
        .find(|(n, _, _)| *n == name)
        .ok_or(AppError::NotFound)?;
    let mut res = body.into_response();
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::ASSETS;

    #[test]
    fn every_file_in_static_is_served() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("static");
        for entry in std::fs::read_dir(dir).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().to_string();
            assert!(
                ASSETS.iter().any(|(n, _, _)| *n == name),
                "static/{name} is not in the asset list, so it would answer 404"
            );
        }
    }
}
