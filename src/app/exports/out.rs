//! Where an export's rows go: CSV and JSON are written right where the rows are read (cheap per
//! row, one thread fewer to hand over to), into a buffer handed to the body in chunks; XLSX
//! rows go in batches to a writer on a blocking thread (it writes temporary files and zips).

use std::io::Write;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use tokio::sync::mpsc;

use crate::app::stream::Chunks;
use crate::domain::export::{Cell, Sink};

/// Rows handed to the blocking writer at a time.
const BATCH: usize = 256;
/// Bytes handed to the body at a time.
const CHUNK: usize = 64 * 1024;

/// A batch of rows, or the reason the export broke off.
pub type Batch = anyhow::Result<Vec<Vec<Cell>>>;

/// A buffer a sink writes into and the reader drains.
#[derive(Clone, Default)]
pub struct SharedBuf(Arc<Mutex<Vec<u8>>>);

impl SharedBuf {
    fn take_if(&self, min: usize) -> Option<Bytes> {
        let mut b = self.0.lock().unwrap_or_else(|p| p.into_inner());
        (b.len() >= min && !b.is_empty()).then(|| Bytes::from(std::mem::take(&mut *b)))
    }
}

impl Write for SharedBuf {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The rows' destination.
pub enum Out {
    /// Batches to a writer on a blocking thread.
    Thread {
        tx: mpsc::Sender<Batch>,
        rows: Vec<Vec<Cell>>,
    },
    /// Written here; the buffer goes to the body in chunks.
    Here {
        sink: Option<Box<dyn Sink + Send>>,
        buf: SharedBuf,
        chunks: Chunks,
    },
}

fn gone() -> anyhow::Error {
    anyhow::anyhow!("the download stopped")
}

impl Out {
    /// Rows for a writer thread that reads `tx`'s other end.
    pub fn thread(tx: mpsc::Sender<Batch>) -> Out {
        Out::Thread {
            tx,
            rows: Vec::with_capacity(BATCH),
        }
    }

    /// Rows written by `sink` into `buf`, sent on through `chunks`.
    pub fn here(sink: Box<dyn Sink + Send>, buf: SharedBuf, chunks: Chunks) -> Out {
        Out::Here {
            sink: Some(sink),
            buf,
            chunks,
        }
    }

    /// Takes one row; waits while the client is behind.
    pub async fn push(&mut self, row: Vec<Cell>) -> anyhow::Result<()> {
        match self {
            Out::Thread { tx, rows } => {
                rows.push(row);
                if rows.len() >= BATCH {
                    let batch = std::mem::replace(rows, Vec::with_capacity(BATCH));
                    tx.send(Ok(batch)).await.map_err(|_| gone())?;
                }
            }
            Out::Here { sink, buf, chunks } => {
                sink.as_mut().ok_or_else(gone)?.row(&row)?;
                if let Some(chunk) = buf.take_if(CHUNK) {
                    chunks.send(Ok(chunk)).await.map_err(|_| gone())?;
                }
            }
        }
        Ok(())
    }

    /// Ends the file.
    pub async fn finish(&mut self) -> anyhow::Result<()> {
        match self {
            Out::Thread { tx, rows } => {
                let batch = std::mem::take(rows);
                tx.send(Ok(batch)).await.map_err(|_| gone())
            }
            Out::Here { sink, buf, chunks } => {
                sink.take().ok_or_else(gone)?.finish()?;
                if let Some(chunk) = buf.take_if(0) {
                    chunks.send(Ok(chunk)).await.map_err(|_| gone())?;
                }
                Ok(())
            }
        }
    }

    /// Breaks the download off: the client sees an error, never a short file.
    pub async fn fail(&mut self, e: anyhow::Error) {
        tracing::warn!(error = %format!("{e:#}"), "export broken off");
        match self {
            Out::Thread { tx, .. } => {
                let _ = tx.send(Err(e)).await;
            }
            Out::Here { chunks, .. } => {
                let _ = chunks
                    .send(Err(std::io::Error::other(format!("{e:#}"))))
                    .await;
            }
        }
    }
}
