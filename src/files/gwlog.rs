//! The gateway-log check on the upload's own byte stream: the chunks that go through the
//! SHA-256 to the store are handed (shared, not copied) to a blocking thread that unpacks
//! gzip or zip when needed and runs the Table 7-4-2 scanner. The check works on its own core
//! while the upload writes; a refusal stops the upload before anything is kept.

use std::cell::Cell;
use std::io::Read;
use std::rc::Rc;

use bytes::Bytes;
use tokio::sync::mpsc;

use crate::domain::gatewaylog::{LogCheck, Refused, Scanner, SiteColumns, Visit};

/// Batches of chunks waiting for the check (bounded: a slow check slows the upload, never the
/// memory: at most QUEUE batches of about BATCH bytes).
const QUEUE: usize = 16;
/// Chunks go to the check's thread in batches of about this many bytes (fewer wake-ups).
const BATCH: usize = 512 * 1024;
/// Inflated bytes read at a time.
const BUF: usize = 256 * 1024;
/// The most files a zipped log may hold.
pub const ZIP_MAX_FILES: usize = 100;
/// Inflation allowed before the ratio applies, and the ratio after it.
const INFLATE_FLOOR: u64 = 16 * 1024 * 1024;
const INFLATE_RATIO: u64 = 200;

/// How far a compressed log may inflate.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The largest log once inflated.
    pub max_inflated: u64,
}

/// The chunks of the upload as a `Read`, counting what has come (shared with the bomb
/// guard, which reads it while an inflating reader holds the chunks).
struct Chunks {
    rx: mpsc::Receiver<Vec<Bytes>>,
    batch: std::vec::IntoIter<Bytes>,
    cur: Bytes,
    taken: Rc<Cell<u64>>,
}

impl Chunks {
    fn next_chunk(&mut self) -> Option<Bytes> {
        if !self.cur.is_empty() {
            return Some(std::mem::take(&mut self.cur));
        }
        let c = match self.batch.next() {
            Some(c) => c,
            None => {
                self.batch = self.rx.blocking_recv()?.into_iter();
                self.batch.next()?
            }
        };
        self.taken.set(self.taken.get() + c.len() as u64);
        Some(c)
    }

    /// Reads past whatever follows the end of the compressed data, so the upload completes.
    fn drain(&mut self) {
        while self.next_chunk().is_some() {}
    }
}

impl Read for Chunks {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.cur.is_empty() {
            match self.next_chunk() {
                Some(c) => self.cur = c,
                None => return Ok(0),
            }
        }
        let n = out.len().min(self.cur.len());
        out[..n].copy_from_slice(&self.cur[..n]);
        let _ = self.cur.split_to(n);
        Ok(n)
    }
}

/// Feeds inflated bytes to the scanner, refusing a bomb.
struct Inflated<'a, V: Visit> {
    scanner: &'a mut Scanner<V>,
    limits: Limits,
    total: u64,
}

impl<V: Visit> Inflated<'_, V> {
    fn pump(&mut self, from: &mut impl Read, compressed: impl Fn() -> u64) -> Result<(), Refused> {
        let mut buf = vec![0u8; BUF];
        loop {
            let n = match from.read(&mut buf) {
                Ok(0) => return Ok(()),
                Ok(n) => n,
                Err(_) => return Err(Refused::Compressed),
            };
            self.total += n as u64;
            if self.total > self.limits.max_inflated
                || (self.total > INFLATE_FLOOR
                    && self.total > compressed().saturating_mul(INFLATE_RATIO))
            {
                return Err(Refused::Bomb);
            }
            self.scanner.feed(&buf[..n])?;
        }
    }
}

/// Whether a name inside a zip stays inside (no `..`, no absolute path, no drive).
fn safe_name(name: &str) -> bool {
    !(name.starts_with('/')
        || name.starts_with('\\')
        || name.contains(':')
        || name.split(['/', '\\']).any(|p| p == ".."))
}

/// Runs the check over the chunks as they come: plain, gzip (one or more members) or zip.
fn check<V: Visit>(
    mut chunks: Chunks,
    limits: Limits,
    mut scanner: Scanner<V>,
) -> Result<LogCheck, Refused> {
    let Some(first) = chunks.next_chunk() else {
        return Err(Refused::Empty);
    };
    chunks.cur = first;
    if chunks.cur.starts_with(&[0x1f, 0x8b]) {
        scanner.compression("gzip");
        let taken = chunks.taken.clone();
        let mut gz = flate2::read::MultiGzDecoder::new(&mut chunks);
        Inflated {
            scanner: &mut scanner,
            limits,
            total: 0,
        }
        .pump(&mut gz, || taken.get())?;
        drop(gz);
        chunks.drain();
    } else if chunks.cur.starts_with(b"PK\x03\x04") {
        scanner.compression("zip");
        let mut inflated = 0u64;
        let mut files = 0;
        let taken = chunks.taken.clone();
        loop {
            let entry = match zip::read::read_zipfile_from_stream(&mut chunks) {
                Ok(Some(e)) => e,
                Ok(None) => break,
                Err(_) => return Err(Refused::Compressed),
            };
            let name = String::from_utf8_lossy(entry.name_raw()).into_owned();
            if !safe_name(&name) {
                return Err(Refused::ZipPath);
            }
            if entry.is_dir() {
                continue;
            }
            files += 1;
            if files > ZIP_MAX_FILES {
                return Err(Refused::ZipEntries);
            }
            scanner.next_file(name)?;
            let mut entry = entry;
            let mut feed = Inflated {
                scanner: &mut scanner,
                limits,
                total: inflated,
            };
            feed.pump(&mut entry, || taken.get())?;
            inflated = feed.total;
        }
        chunks.drain();
    } else if V::SPLITS {
        split(&mut chunks, &mut scanner, SPLIT_AFTER, SEGMENT)?;
    } else {
        while let Some(c) = chunks.next_chunk() {
            scanner.feed(&c)?;
        }
    }
    scanner.finish()
}

/// A plain log is read on two threads once this much of it has been read on one (a small log
/// is not worth the second thread).
const SPLIT_AFTER: u64 = 4 * 1024 * 1024;

/// Whole lines read in one turn by either thread.
const SEGMENT: usize = 256 * 1024;

/// The line of a refusal that has one.
fn refusal_line(r: &Refused) -> Option<crate::domain::gatewaylog::At> {
    match r {
        Refused::LongLine(at)
        | Refused::Binary(at)
        | Refused::Encoding(at)
        | Refused::Mixed(at)
        | Refused::TooManyColumns(at) => Some(*at),
        _ => None,
    }
}

/// The check of a plain log on two threads: once `after` bytes have been read here and the
/// scanner can be forked (columns and encoding known), every other turn of about `segment`
/// bytes of complete lines goes to a second thread with a scanner of its own, told the number
/// of each range's first line; this thread reads the other turns, and the lines that straddle
/// chunks. The two are added up at the end,
/// and the refusal that comes first in the file wins, as in one pass (a NUL byte is found per
/// piece read, as one pass finds it per chunk).
fn split<V: Visit>(
    chunks: &mut Chunks,
    scanner: &mut Scanner<V>,
    after: u64,
    segment: usize,
) -> Result<(), Refused> {
    let mut read = 0u64;
    let worker = loop {
        let Some(c) = chunks.next_chunk() else {
            return Ok(());
        };
        scanner.feed(&c)?;
        read += c.len() as u64;
        if read >= after
            && let Some(w) = scanner.fork()
        {
            break w;
        }
    };
    let failed = std::sync::atomic::AtomicBool::new(false);
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<(u64, Bytes)>>(2);
    std::thread::scope(|s| {
        let helper = s.spawn(|| {
            let mut w = worker;
            for batch in rx {
                for (first, lines) in batch {
                    if let Err(r) = w.feed_at(first, &lines) {
                        failed.store(true, std::sync::atomic::Ordering::Relaxed);
                        return Err(r);
                    }
                }
            }
            Ok(w)
        });
        let mut mine = Ok(());
        // Turns of about `segment` bytes of whole lines: the helper's are sent as one batch.
        let (mut theirs, mut turn, mut batch) = (true, 0usize, Vec::new());
        while let Some(c) = chunks.next_chunk() {
            if failed.load(std::sync::atomic::Ordering::Relaxed) {
                break;
            }
            let step = (|| {
                let Some(i) = memchr::memchr(b'\n', &c) else {
                    return scanner.feed(&c);
                };
                let j = memchr::memrchr(b'\n', &c).unwrap_or(i);
                scanner.feed(&c[..=i])?;
                if j > i {
                    let body = c.slice(i + 1..=j);
                    turn += body.len();
                    if theirs {
                        let n = memchr::memchr_iter(b'\n', &body).count() as u64;
                        batch.push((scanner.line_no() + 1, body));
                        scanner.skip_lines(n);
                        if turn >= segment {
                            // A closed channel: the helper has refused, which is read below.
                            let _ = tx.send(std::mem::take(&mut batch));
                        }
                    } else {
                        scanner.feed(&body)?;
                    }
                    if turn >= segment {
                        (theirs, turn) = (!theirs, 0);
                    }
                }
                scanner.feed(&c[j + 1..])
            })();
            if let Err(r) = step {
                mine = Err(r);
                break;
            }
        }
        if !batch.is_empty() {
            let _ = tx.send(batch);
        }
        drop(tx);
        let theirs = helper.join().unwrap_or(Err(Refused::Compressed));
        match (mine, theirs) {
            (Ok(()), Ok(w)) => {
                scanner.absorb(w);
                Ok(())
            }
            (Err(r), Ok(_)) | (Ok(()), Err(r)) => Err(r),
            (Err(a), Err(b)) => Err(match (refusal_line(&a), refusal_line(&b)) {
                (Some(x), Some(y)) if y < x => b,
                _ => a,
            }),
        }
    })
}

/// The check of one upload in progress.
pub struct LogInspector {
    tx: Option<mpsc::Sender<Vec<Bytes>>>,
    pending: Vec<Bytes>,
    pending_bytes: usize,
    task: Option<tokio::task::JoinHandle<Result<LogCheck, Refused>>>,
    /// The result, once `finish` has taken it.
    pub result: Option<LogCheck>,
}

impl LogInspector {
    /// Starts the check's thread; the columns are read by the gateway site's mapping when it
    /// has one.
    pub fn start(limits: Limits, site: Option<SiteColumns>) -> LogInspector {
        let (tx, rx) = mpsc::channel(QUEUE);
        LogInspector {
            result: None,
            pending: vec![],
            pending_bytes: 0,
            tx: Some(tx),
            task: Some(tokio::task::spawn_blocking(move || {
                let chunks = Chunks {
                    rx,
                    batch: Vec::new().into_iter(),
                    cur: Bytes::new(),
                    taken: Rc::new(Cell::new(0)),
                };
                check(chunks, limits, Scanner::site((), site).probing())
            })),
        }
    }

    /// Hands a chunk to the check; answers its refusal as soon as it has one.
    pub async fn feed(&mut self, chunk: Bytes) -> Result<(), Refused> {
        self.pending_bytes += chunk.len();
        self.pending.push(chunk);
        if self.pending_bytes < BATCH {
            return Ok(());
        }
        self.send().await
    }

    async fn send(&mut self) -> Result<(), Refused> {
        let batch = std::mem::take(&mut self.pending);
        self.pending_bytes = 0;
        if batch.is_empty() {
            return Ok(());
        }
        let sent = match &self.tx {
            Some(tx) => tx.send(batch).await.is_ok(),
            None => false,
        };
        if sent {
            return Ok(());
        }
        // The check stopped reading: it has refused the file.
        self.verdict().await.and(Err(Refused::Compressed))
    }

    /// Ends the input and waits for the verdict; the result is kept in `result`.
    pub async fn finish(&mut self) -> Result<(), Refused> {
        if self.tx.is_some() {
            self.send().await?;
        }
        self.verdict().await
    }

    async fn verdict(&mut self) -> Result<(), Refused> {
        self.tx = None;
        let Some(task) = self.task.take() else {
            return if self.result.is_some() {
                Ok(())
            } else {
                Err(Refused::Compressed)
            };
        };
        match task.await {
            Ok(Ok(c)) => {
                self.result = Some(c);
                Ok(())
            }
            Ok(Err(r)) => Err(r),
            Err(_) => Err(Refused::Compressed),
        }
    }
}

/// Reads a stored log (a blob's stream) through the check, showing each record to `visit`
/// (the search of submitted logs; `()` for the re-check with a new mapping): the same
/// unpacking, encodings and line reading as the upload's check, with the mapping the log
/// was (or is to be) read with. Answers the visitor back with the check's verdict; `Err`
/// only when the store fails.
pub async fn visit_stored<S, E, V>(
    mut stream: S,
    limits: Limits,
    site: Option<SiteColumns>,
    mut visit: V,
) -> anyhow::Result<(V, Result<LogCheck, Refused>)>
where
    S: futures_util::Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::error::Error + Send + Sync + 'static,
    V: Visit + Send + 'static,
{
    use futures_util::StreamExt;
    let (tx, rx) = mpsc::channel(QUEUE);
    let task = tokio::task::spawn_blocking(move || {
        let chunks = Chunks {
            rx,
            batch: Vec::new().into_iter(),
            cur: Bytes::new(),
            taken: Rc::new(Cell::new(0)),
        };
        let verdict = check(chunks, limits, Scanner::site(&mut visit, site));
        (visit, verdict)
    });
    let mut failed = None;
    while let Some(chunk) = stream.next().await {
        match chunk {
            // The check stops reading once it has refused the file.
            Ok(c) => {
                if tx.send(vec![c]).await.is_err() {
                    break;
                }
            }
            Err(e) => {
                failed = Some(anyhow::Error::new(e));
                break;
            }
        }
    }
    drop(tx);
    let out = task.await?;
    match failed {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

/// How much of a file [`check_file`] reads at a time (an upload's chunks are batched to
/// `BATCH` before they reach the check's thread, so the check sees the same either way).
const READ_CHUNK: usize = 256 * 1024;
/// Chunks read ahead of the check (besides the check's own queue).
const READ_AHEAD: usize = 2;

/// A read buffer lent out as `Bytes`; it goes back to its pool when the last `Bytes` made
/// from it is dropped, so a long file is read into the same few buffers (not a fresh
/// allocation, page-faulted in and zeroed by the kernel, per chunk).
struct Lent {
    buf: Vec<u8>,
    pool: std::sync::Arc<std::sync::Mutex<Vec<Vec<u8>>>>,
}

impl AsRef<[u8]> for Lent {
    fn as_ref(&self) -> &[u8] {
        &self.buf
    }
}

impl Drop for Lent {
    fn drop(&mut self) {
        if let Ok(mut pool) = self.pool.lock() {
            pool.push(std::mem::take(&mut self.buf));
        }
    }
}

/// Feeds a file to the check the way an upload does (chunks shared with the SHA-256 when
/// `sha256` is set); answers the bytes read and the verdict. For the benchmark and for
/// checking a log by hand.
pub async fn check_file(
    path: &std::path::Path,
    sha256: bool,
    max_log: u64,
) -> anyhow::Result<(u64, Result<LogCheck, Refused>)> {
    use sha2::Digest;
    let (tx, mut rx) = mpsc::channel::<Bytes>(READ_AHEAD);
    let path = path.to_path_buf();
    let reader = tokio::task::spawn_blocking(move || -> std::io::Result<u64> {
        let mut f = std::fs::File::open(path)?;
        let pool = std::sync::Arc::new(std::sync::Mutex::new(Vec::<Vec<u8>>::new()));
        let mut total = 0;
        loop {
            let spare = pool.lock().ok().and_then(|mut p| p.pop());
            let mut buf = spare.unwrap_or_else(|| Vec::with_capacity(READ_CHUNK));
            buf.clear();
            // Into spare capacity (`read_to_end` does not zero it first).
            let n = (&mut f).take(READ_CHUNK as u64).read_to_end(&mut buf)?;
            if n == 0 {
                return Ok(total);
            }
            total += n as u64;
            let lent = Lent {
                buf,
                pool: pool.clone(),
            };
            if tx.blocking_send(Bytes::from_owner(lent)).is_err() {
                return Ok(total);
            }
        }
    });
    let mut inspector = LogInspector::start(
        Limits {
            max_inflated: max_log.saturating_mul(16),
        },
        None,
    );
    let mut hasher = sha2::Sha256::new();
    let mut verdict = Ok(());
    while let Some(chunk) = rx.recv().await {
        if sha256 {
            hasher.update(&chunk);
        }
        verdict = inspector.feed(chunk).await;
        if verdict.is_err() {
            break;
        }
    }
    drop(rx);
    let total = reader.await??;
    if verdict.is_ok() {
        verdict = inspector.finish().await;
    }
    let _ = hasher.finalize();
    Ok((
        total,
        verdict.and_then(|()| inspector.result.take().ok_or(Refused::Compressed)),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    const LOG: &str = "送受信区分,利用者コード,識別番号,業務コード,年月日時分秒\n送信,ABC12,001,IDA,2026-10-01 09:00:00\n";
    const LIMITS: Limits = Limits {
        max_inflated: 1 << 40,
    };

    async fn run(bytes: Vec<u8>) -> Result<LogCheck, Refused> {
        let mut i = LogInspector::start(LIMITS, None);
        for c in bytes.chunks(7000) {
            i.feed(Bytes::copy_from_slice(c)).await?;
        }
        i.finish().await?;
        Ok(i.result.unwrap())
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(vec![], flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn gzip_best(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(vec![], flate2::Compression::best());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn zip(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(vec![]));
        for (name, data) in files {
            w.start_file(*name, zip::write::SimpleFileOptions::default())
                .unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    /// The plain check on two threads from the first chunk on, in chunks of `size`.
    fn on_two_threads(bytes: &[u8], size: usize, segment: usize) -> Result<LogCheck, Refused> {
        let (tx, rx) = mpsc::channel(bytes.len() / size + 2);
        for c in bytes.chunks(size) {
            tx.try_send(vec![Bytes::copy_from_slice(c)]).unwrap();
        }
        drop(tx);
        let mut chunks = Chunks {
            rx,
            batch: Vec::new().into_iter(),
            cur: Bytes::new(),
            taken: Rc::new(Cell::new(0)),
        };
        let mut s = Scanner::new();
        split(&mut chunks, &mut s, 0, segment)?;
        s.finish()
    }

    /// The check on one thread, in chunks of `size` (a refusal for a NUL is found per chunk,
    /// before the chunk's lines are read: which refusal comes first may depend on the chunks).
    fn in_one_pass(bytes: &[u8], size: usize) -> Result<LogCheck, Refused> {
        let mut s = Scanner::new();
        for c in bytes.chunks(size) {
            s.feed(c)?;
        }
        s.finish()
    }

    /// A log with lines of every kind the check counts: both directions, missing fields, bad
    /// directions and times, CR LF, quoted cells, blank lines, many values, several days.
    fn varied_log(lines: usize) -> Vec<u8> {
        let mut out = "送受信区分,利用者コード,識別番号,業務コード,年月日時分秒\r\n".to_string();
        for i in 0..lines {
            let dir = match i % 11 {
                0 => "送る",
                1 | 3 | 5 | 7 | 9 => "受信",
                _ => "送信",
            };
            let id = if i % 13 == 0 {
                String::new()
            } else {
                format!("{:03}", i % 997)
            };
            let time = match i % 17 {
                0 => "2026-13-01 00:00:00".to_string(),
                1 => String::new(),
                _ => format!(
                    "2026-10-{:02} {:02}:{:02}:{:02}",
                    1 + i / 900 % 28,
                    i / 60 % 24,
                    i % 60,
                    i % 59
                ),
            };
            let user = if i % 19 == 0 {
                format!("\"U{},{}\"", i % 31, i % 7)
            } else {
                format!("U{:04}", i % 2003)
            };
            out.push_str(&format!("{dir},{user},{id},IDA{},{time}", i % 5));
            out.push_str(if i % 3 == 0 { "\r\n" } else { "\n" });
            if i % 101 == 0 {
                out.push('\n');
            }
        }
        out.into_bytes()
    }

    #[test]
    fn a_log_read_on_two_threads_gives_what_one_pass_gives() {
        let log = varied_log(30_000);
        let whole = in_one_pass(&log, log.len()).unwrap();
        assert!(whole.lines > 29_000 && whole.bad_time.n > 0 && whole.send_missing.n > 0);
        for size in [7, 64, 1000, 4096, 65_536, 300_000] {
            for segment in [100, 5000, SEGMENT] {
                assert_eq!(
                    on_two_threads(&log, size, segment),
                    Ok(whole.clone()),
                    "chunks of {size}, turns of {segment}"
                );
            }
        }
        // Refusals: the first in the file wins, at the same line as in one pass.
        let mut nul = log.clone();
        nul[log.len() / 2] = 0;
        let mut long = log.clone();
        let at = log.len() / 3;
        long.splice(at..at, std::iter::repeat_n(b'x', 70_000));
        let mut mixed = log.clone();
        let at = log.len() * 2 / 3;
        let at = at + memchr::memchr(b'\n', &log[at..]).unwrap() + 1;
        mixed.splice(at..at, [0x91, 0x97, 0x90, 0x4D, b',', b'A', b'\n']);
        let mut both = nul.clone();
        both.splice(1000..1000, std::iter::repeat_n(b'y', 70_000));
        for bad in [nul, long, mixed, both] {
            for size in [64, 4096, 65_536] {
                let one = in_one_pass(&bad, size);
                assert!(one.is_err());
                for segment in [100, 5000] {
                    assert_eq!(on_two_threads(&bad, size, segment), one, "chunks of {size}");
                }
            }
        }
    }

    #[tokio::test]
    async fn gzip_and_zip_logs_are_checked_as_they_stream() {
        let c = run(gzip(LOG.as_bytes())).await.unwrap();
        assert_eq!((c.sent, c.compression.as_deref()), (1, Some("gzip")));
        let c = run(zip(&[
            ("a.csv", LOG.as_bytes()),
            ("b/b.log", LOG.as_bytes()),
        ]))
        .await
        .unwrap();
        assert_eq!(c.sent, 2);
        assert_eq!(c.files, vec!["a.csv", "b/b.log"]);
    }

    #[tokio::test]
    async fn bombs_bad_names_and_many_files_are_refused() {
        let member = gzip_best(&vec![b'\n'; 1 << 20]);
        let bomb: Vec<u8> = member
            .iter()
            .copied()
            .cycle()
            .take(member.len() * 100)
            .collect();
        assert_eq!(run(bomb).await, Err(Refused::Bomb));
        assert_eq!(
            run(zip(&[("../evil.csv", LOG.as_bytes())])).await,
            Err(Refused::ZipPath)
        );
        let many: Vec<(String, &[u8])> = (0..=ZIP_MAX_FILES)
            .map(|i| (format!("{i}.csv"), LOG.as_bytes()))
            .collect();
        let many: Vec<(&str, &[u8])> = many.iter().map(|(n, d)| (n.as_str(), *d)).collect();
        assert_eq!(run(zip(&many)).await, Err(Refused::ZipEntries));
        assert_eq!(
            run(vec![0x1f, 0x8b, 1, 2, 3]).await,
            Err(Refused::Compressed)
        );
    }
}
