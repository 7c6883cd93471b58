//! Bytes produced while they are sent: a worker writes into a bounded channel through
//! [`ChannelWriter`] and the reader (a response body, a file) takes chunks from the other end,
//! so memory holds a few chunks whatever the size. A failure midway ends the stream with an
//! error (the reader sees a broken download, never a short file that looks whole).

use std::io::Write;

use bytes::Bytes;
use tokio::sync::mpsc;

/// Bytes handed on at a time.
const CHUNK: usize = 64 * 1024;

/// The sending half: what a worker writes into.
pub type Chunks = mpsc::Sender<Result<Bytes, std::io::Error>>;

/// A blocking `Write` into the body's channel, in chunks of [`CHUNK`] bytes; waits while the
/// client is behind. Use it from a blocking thread only, and `flush` at the end: what is
/// not flushed is not sent.
pub struct ChannelWriter {
    tx: Chunks,
    buf: Vec<u8>,
}

impl ChannelWriter {
    pub fn new(tx: Chunks) -> ChannelWriter {
        ChannelWriter {
            tx,
            buf: Vec::with_capacity(CHUNK),
        }
    }

    fn send(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "client gone"))
    }
}

/// Ends a body with an error (from a blocking thread).
pub fn fail(tx: &Chunks, e: &anyhow::Error) {
    tracing::warn!(error = %format!("{e:#}"), "download broken off");
    let _ = tx.blocking_send(Err(std::io::Error::other(format!("{e:#}"))));
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}
