//! Downloads produced while they are sent: a worker writes into a bounded channel through
//! [`ChannelWriter`] and the response body reads from it, so memory holds a few chunks
//! whatever the size. A failure midway ends the body with an error (the client sees a broken
//! download, never a short file that looks whole).

use axum::body::Body;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use tokio::sync::mpsc;

/// Chunks waiting for the client at most.
const QUEUED: usize = 8;

pub use crate::app::stream::{ChannelWriter, Chunks, fail};

/// A bounded channel and the response streaming its receiving half as an attachment.
pub fn attachment(mime: &'static str, file_name: &str) -> (Chunks, Response) {
    let (tx, rx) = mpsc::channel(QUEUED);
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    });
    let mut res = Body::from_stream(stream).into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    if let Ok(v) =
        HeaderValue::from_str(&super::html::common::files::content_disposition(file_name))
    {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    (tx, res)
}
