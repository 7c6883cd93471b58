//! Finding who connected (issue 11, item 4): the Center searches the gateway logs an
//! organisation submitted (item 6, Table 7-4-2) by 利用者コード, 識別番号, 業務コード (exact)
//! and a time range (JST). The stored files are read through the upload's own check
//! (`files::gwlog::visit_stored`: gzip, zip, plain; UTF-8 or Shift_JIS; the same header and
//! line reading), so a line matches here exactly as the check read it. The page receives the
//! first [`PAGE_CAP`] matches as they are found ([`Search::stream`]), then the totals; the CSV
//! streams every match as it is found. Every search is an audit entry with its criteria, the
//! number of matches and whether it ran to the end.

use std::sync::Arc;

use memchr::memmem::Finder;
use uuid::Uuid;

use super::stream::{ChannelWriter, Chunks, fail};
use super::{Actor, App, Error, FieldErrors};
use crate::db;
use crate::domain::export::{Cell, Column, Format, Kind, Sink, Words, col};
use crate::domain::gatewaylog::fields::{self, DateCache, Direction, Stamp};
use crate::domain::gatewaylog::{Record, Refused, SiteColumns, Visit};
use crate::domain::{Role, Scope};
use crate::files::gwlog::{Limits, visit_stored};

/// Who searches: Center staff.
pub const SEARCHERS: [Role; 2] = [Role::Reviewer, Role::CenterAdmin];

/// Matches the page shows; past it, the page says so and offers the CSV.
pub const PAGE_CAP: usize = 1000;

/// The search as typed (every field optional, at least one needed).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct SearchInput {
    pub user_code: String,
    pub id_number: String,
    pub business_code: String,
    /// `YYYY-MM-DDThh:mm[:ss]`, `YYYY-MM-DD hh:mm[:ss]` or `YYYY-MM-DD` (JST).
    pub from: String,
    pub to: String,
}

impl SearchInput {
    /// Whether anything was typed (a form opened without a search).
    pub fn is_empty(&self) -> bool {
        [
            &self.user_code,
            &self.id_number,
            &self.business_code,
            &self.from,
            &self.to,
        ]
        .iter()
        .all(|s| s.trim().is_empty())
    }
}

/// One value to match as typed (full-width letters and digits read as ASCII): a code of ASCII
/// letters and digits in either case (NACCS writes them in capitals, a clerk may type
/// `ida`), any other text exactly, in UTF-8 or in Shift_JIS (a log may be either).
#[derive(Debug, Clone)]
struct Want {
    /// UTF-8 (the capitals of an ASCII code).
    utf8: Vec<u8>,
    /// Shift_JIS (an ASCII code typed with small letters: those).
    other: Vec<u8>,
    /// An ASCII code: compared without regard to case.
    ascii: bool,
}

impl Want {
    fn of(typed: &str) -> Option<Want> {
        use unicode_normalization::UnicodeNormalization;
        let folded: String = typed.nfkc().collect();
        let t = folded.trim();
        if t.is_empty() {
            return None;
        }
        Some(if t.is_ascii() {
            // Looked for as capitals, and as typed when typed in small letters (a second look
            // at every line only then: the search by a code as NACCS writes it stays one).
            let upper = t.to_ascii_uppercase().into_bytes();
            Want {
                other: if t.bytes().any(|b| b.is_ascii_lowercase()) {
                    t.to_ascii_lowercase().into_bytes()
                } else {
                    upper.clone()
                },
                utf8: upper,
                ascii: true,
            }
        } else {
            Want {
                utf8: t.as_bytes().to_vec(),
                other: encoding_rs::SHIFT_JIS.encode(t).0.into_owned(),
                ascii: false,
            }
        })
    }

    fn is(&self, cell: &[u8]) -> bool {
        if self.ascii {
            // A Shift_JIS character's second byte may be an ASCII letter, but its first is
            // not ASCII: it never equals an ASCII code, whatever the case.
            cell.eq_ignore_ascii_case(&self.utf8)
        } else {
            cell == self.utf8 || cell == self.other
        }
    }
}

/// The checked criteria.
#[derive(Debug, Clone)]
struct Criteria {
    user: Option<Want>,
    id: Option<Want>,
    business: Option<Want>,
    from: Option<Stamp>,
    to: Option<Stamp>,
}

/// A time bound as typed, in JST seconds; a day alone is its first (or last) second.
fn bound(raw: &str, end: bool) -> Result<Option<Stamp>, &'static str> {
    use unicode_normalization::UnicodeNormalization;
    const BAD: &str = "logsearch.error.time";
    // Full-width digits and signs as typed in Japanese input modes.
    let typed: String = raw.nfkc().collect();
    let t = typed.trim();
    if t.is_empty() {
        return Ok(None);
    }
    let (date, time) = match t.split_once([' ', 'T']) {
        Some((d, tm)) => (d, Some(tm.trim())),
        None => (t, None),
    };
    let num = |s: &str, max: usize| -> Result<u32, &'static str> {
        if s.is_empty() || s.len() > max || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(BAD);
        }
        s.parse().map_err(|_| BAD)
    };
    // 2026-11-14, 2026/11/14, 2026/1/5, 20261114.
    let ymd: Vec<&str> = date.split(['-', '/']).collect();
    let (y, m, d) = match ymd.as_slice() {
        [y, m, d] if y.len() == 4 => (num(y, 4)?, num(m, 2)?, num(d, 2)?),
        [all] if all.len() == 8 => (num(&all[..4], 4)?, num(&all[4..6], 2)?, num(&all[6..], 2)?),
        _ => return Err(BAD),
    };
    chrono::NaiveDate::from_ymd_opt(y as i32, m, d).ok_or(BAD)?;
    // 9:00, 09:05, 09:05:07; what is left out spans its whole length.
    let (fill_m, fill_s) = if end { (59, 59) } else { (0, 0) };
    let (h, mi, sec) = match time {
        None => {
            if end {
                (23, 59, 59)
            } else {
                (0, 0, 0)
            }
        }
        Some(tm) => match tm.split(':').collect::<Vec<_>>().as_slice() {
            [h] => (num(h, 2)?, fill_m, fill_s),
            [h, mi] => (num(h, 2)?, num(mi, 2)?, fill_s),
            [h, mi, s] => (num(h, 2)?, num(mi, 2)?, num(s, 2)?),
            _ => return Err(BAD),
        },
    };
    if h > 23 || mi > 59 || sec > 59 {
        return Err(BAD);
    }
    let full = format!("{y:04}-{m:02}-{d:02} {h:02}:{mi:02}:{sec:02}");
    fields::timestamp(full.as_bytes(), &mut DateCache::default())
        .map(Some)
        .ok_or(BAD)
}

fn criteria(input: &SearchInput) -> Result<Criteria, Error> {
    let mut errors = FieldErrors::default();
    let from = errors.take("from", bound(&input.from, false)).flatten();
    let to = errors.take("to", bound(&input.to, true)).flatten();
    if let (Some(a), Some(b)) = (from, to)
        && b < a
    {
        errors.add("to", "logsearch.error.to_before_from");
    }
    let c = Criteria {
        user: Want::of(&input.user_code),
        id: Want::of(&input.id_number),
        business: Want::of(&input.business_code),
        from,
        to,
    };
    if input.is_empty() {
        errors.add("_form", "logsearch.error.nothing");
    }
    if errors.is_empty() {
        Ok(c)
    } else {
        Err(Error::Invalid(errors))
    }
}

/// One matching line.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Hit {
    /// The file as submitted (`logs.zip / a.csv` inside a zip).
    pub file: String,
    pub line: u64,
    pub direction: Option<&'static str>,
    /// `YYYY-MM-DD hh:mm:ss` (JST), empty when the line's time does not read.
    pub time: String,
    pub user: String,
    pub id: String,
    pub business: String,
    pub raw: String,
}

/// A log's bytes as text: UTF-8 when they are, else Shift_JIS.
fn text(b: &[u8]) -> String {
    match std::str::from_utf8(b) {
        Ok(s) => s.to_string(),
        Err(_) => encoding_rs::SHIFT_JIS.decode(b).0.into_owned(),
    }
}

/// What a page's search hands on, in order: hits (at most [`PAGE_CAP`]), [`Event::Capped`]
/// once when one more is found, then [`Event::End`].
#[derive(Debug)]
pub enum Event {
    Hit(Hit),
    /// More than [`PAGE_CAP`] lines match: the page shows no more (the search goes on
    /// counting).
    Capped,
    End(Summary),
}

/// How a page's search ended.
#[derive(Debug, Clone)]
pub struct Summary {
    /// Every match found (all of them when `complete`).
    pub total: u64,
    /// Submitted logs, and how many were read to their end.
    pub files: usize,
    pub searched: usize,
    /// Submitted files the check no longer reads (none, unless kept before logs were checked).
    pub unreadable: Vec<String>,
    pub elapsed: std::time::Duration,
    /// False when the search stopped midway (a file could not be read from the store).
    pub complete: bool,
}

/// Hits waiting for the page at most: the scanner waits while the client is behind.
const QUEUED_HITS: usize = 256;

/// Where the matches go.
enum Out {
    Page(Vec<Hit>),
    /// Into the page's channel; `gone` once the page stopped listening (the client left).
    Stream {
        tx: tokio::sync::mpsc::Sender<Event>,
        sent: usize,
        gone: bool,
    },
    /// Into a downloaded file (CSV or a workbook).
    File {
        sink: Box<dyn Sink + Send>,
        words: [String; 2],
        broken: Option<anyhow::Error>,
    },
}

/// The visitor the check shows each record to.
struct Matcher {
    crit: Arc<Criteria>,
    /// The rarest value typed, looked for before a line is split.
    needle: Option<(Finder<'static>, Option<Finder<'static>>)>,
    file: String,
    found: u64,
    out: Out,
}

impl Matcher {
    fn new(crit: Arc<Criteria>, out: Out) -> Matcher {
        let needle = [&crit.id, &crit.user, &crit.business]
            .into_iter()
            .flatten()
            .next()
            .map(|w| {
                (
                    Finder::new(&w.utf8).into_owned(),
                    (w.other != w.utf8).then(|| Finder::new(&w.other).into_owned()),
                )
            });
        Matcher {
            crit,
            needle,
            file: String::new(),
            found: 0,
            out,
        }
    }

    /// Whether the output is gone: the page stopped listening, or the CSV broke off.
    fn stopped(&self) -> bool {
        matches!(
            self.out,
            Out::Stream { gone: true, .. }
                | Out::File {
                    broken: Some(_),
                    ..
                }
        )
    }

    fn matches(&self, r: &Record<'_>) -> bool {
        let c = &*self.crit;
        c.user.as_ref().is_none_or(|w| w.is(r.user))
            && c.id.as_ref().is_none_or(|w| w.is(r.id))
            && c.business.as_ref().is_none_or(|w| w.is(r.business))
            && (c.from.is_none() && c.to.is_none()
                || r.time
                    .is_some_and(|t| c.from.is_none_or(|f| t >= f) && c.to.is_none_or(|e| t <= e)))
    }
}

impl Visit for Matcher {
    const COUNTS: bool = false;

    fn skip(&mut self, line: &[u8]) -> bool {
        if self.stopped() {
            return true;
        }
        match &self.needle {
            Some((a, b)) => {
                a.find(line).is_none() && b.as_ref().is_none_or(|b| b.find(line).is_none())
            }
            None => false,
        }
    }

    fn skips(&self) -> bool {
        // A search by time alone reads every line: the check's reading by blocks serves it.
        self.needle.is_some() || self.stopped()
    }

    fn record(&mut self, r: &Record<'_>) {
        if !self.matches(r) {
            return;
        }
        self.found += 1;
        let hit = || Hit {
            file: match r.entry {
                Some(e) => format!("{} / {e}", self.file),
                None => self.file.clone(),
            },
            line: r.at.1,
            direction: r.direction.map(|d| match d {
                Direction::Send => "send",
                Direction::Receive => "receive",
            }),
            time: r.time.map(fields::show).unwrap_or_default(),
            user: text(r.user),
            id: text(r.id),
            business: text(r.business),
            raw: text(r.raw),
        };
        match &mut self.out {
            Out::Page(hits) => {
                if hits.len() < PAGE_CAP {
                    hits.push(hit());
                }
            }
            Out::Stream { tx, sent, gone } => {
                if *gone || *sent > PAGE_CAP {
                    return;
                }
                let event = if *sent < PAGE_CAP {
                    Event::Hit(hit())
                } else {
                    Event::Capped
                };
                *sent += 1;
                // On the scanner's blocking thread: waits while the page is behind.
                if tx.blocking_send(event).is_err() {
                    *gone = true;
                }
            }
            Out::File {
                sink,
                words,
                broken,
            } => {
                if broken.is_some() {
                    return;
                }
                let h = hit();
                let dir = match h.direction {
                    Some("send") => words[0].clone(),
                    Some(_) => words[1].clone(),
                    None => String::new(),
                };
                let row = [
                    Cell::text(h.file),
                    Cell::Int(h.line as i64),
                    Cell::text(dir),
                    Cell::text(h.time),
                    Cell::text(h.user),
                    Cell::text(h.id),
                    Cell::text(h.business),
                    Cell::text(h.raw),
                ];
                if let Err(e) = sink.row(&row) {
                    *broken = Some(e);
                }
            }
        }
    }
}

/// The columns of the CSV, in order (locale keys `logsearch.col.*`).
pub const COLUMNS: [&str; 8] = [
    "file",
    "line",
    "direction",
    "time",
    "user",
    "id",
    "business",
    "raw",
];

/// The kinds of the [`COLUMNS`] (a workbook writes codes as text).
const KINDS: [Column; 8] = [
    col("file", Kind::Text),
    col("line", Kind::Int),
    col("direction", Kind::Code),
    col("time", Kind::Code),
    col("user", Kind::Code),
    col("id", Kind::Code),
    col("business", Kind::Code),
    col("raw", Kind::LongText),
];

/// The searches running on this node: their places (`Config::log_searches`) and how far
/// each has read, so that a search refused for want of a place is told how long the nearest
/// one has left (`Retry-After`).
pub struct Searches {
    places: Arc<tokio::sync::Semaphore>,
    running: std::sync::Mutex<Vec<Arc<Progress>>>,
}

/// How far a running search has read its files.
struct Progress {
    started: std::time::Instant,
    /// The stored size of its files (compressed as stored).
    total: u64,
    read: std::sync::atomic::AtomicU64,
}

impl Progress {
    /// Seconds left at the pace so far; before the first bytes, a guess at 100 MB/s.
    fn seconds_left(&self) -> f64 {
        let read = self.read.load(std::sync::atomic::Ordering::Relaxed);
        let left = self.total.saturating_sub(read) as f64;
        let elapsed = self.started.elapsed().as_secs_f64();
        if read == 0 || elapsed <= 0.0 {
            left / 100e6
        } else {
            left * elapsed / read as f64
        }
    }
}

/// The shortest and longest wait a refused search is told (seconds).
const WAIT: (u32, u32) = (2, 600);

impl Searches {
    pub fn new(places: usize) -> Searches {
        Searches {
            places: Arc::new(tokio::sync::Semaphore::new(places)),
            running: Default::default(),
        }
    }

    /// Seconds until the nearest running search should have read its files.
    fn wait(&self) -> u32 {
        let running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        let nearest = running
            .iter()
            .map(|p| p.seconds_left())
            .fold(f64::INFINITY, f64::min);
        if nearest.is_finite() {
            (nearest.ceil() as u32).clamp(WAIT.0, WAIT.1)
        } else {
            WAIT.0
        }
    }
}

/// A place among the searches running on this node, held by the task that reads the files
/// until they are read (also when the client went away); its progress is counted as the
/// files are read.
pub struct Permit {
    _place: tokio::sync::OwnedSemaphorePermit,
    progress: Arc<Progress>,
    searches: Arc<Searches>,
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut running = self
            .searches
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        running.retain(|p| !Arc::ptr_eq(p, &self.progress));
    }
}

/// A place for this search on this node, or, while as many run as it allows, the seconds
/// until the nearest of them should be done.
pub fn claim(app: &App, search: &Search) -> Result<Permit, u32> {
    let searches = &app.log_searches;
    let place = searches
        .places
        .clone()
        .try_acquire_owned()
        .map_err(|_| searches.wait())?;
    let progress = Arc::new(Progress {
        started: std::time::Instant::now(),
        total: search.files.iter().map(|f| f.3).sum(),
        read: Default::default(),
    });
    searches
        .running
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(progress.clone());
    Ok(Permit {
        _place: place,
        progress,
        searches: searches.clone(),
    })
}

/// A search checked against the submission: what it reads and who asked.
pub struct Search {
    actor: Actor,
    submission: Uuid,
    pub org_id: Uuid,
    pub receipt_no: String,
    /// (shown name, SHA-256, the mapping its check read it with, stored size) of each
    /// submitted log, in order.
    files: Vec<(String, String, Option<SiteColumns>, u64)>,
    input: SearchInput,
    crit: Arc<Criteria>,
    limits: Limits,
}

/// The submitted logs of a sealed item-6 submission, for Center staff (anyone else, and any
/// other submission, is not found).
pub async fn logs_of(app: &App, actor: &Actor, id: Uuid) -> Result<(Uuid, String, usize), Error> {
    if !actor.holds(&SEARCHERS) {
        return Err(Error::NotFound);
    }
    let s = db::submissions::get(&app.db, Scope::Center, id)
        .await?
        .filter(|s| s.kind == "gateway_logs" && s.submitted_at.is_some())
        .ok_or(Error::NotFound)?;
    let n = db::submissions::files(&app.db, Scope::Center, id)
        .await?
        .iter()
        .filter(|f| f.role == "logs")
        .count();
    Ok((s.org_id, s.receipt_no.unwrap_or_default(), n))
}

/// Checks a search of a submission's logs (the criteria's errors name their field).
pub async fn prepare(
    app: &App,
    actor: &Actor,
    id: Uuid,
    input: &SearchInput,
) -> Result<Search, Error> {
    let (org_id, receipt_no, _) = logs_of(app, actor, id).await?;
    let row = db::submissions::get(&app.db, Scope::Center, id).await?;
    let site = row.as_ref().and_then(|s| s.location_id);
    // The mappings the logs were read with when the report was sealed.
    let sealed = row
        .as_ref()
        .and_then(|s| serde_json::from_str::<serde_json::Value>(&s.data).ok())
        .and_then(|d| super::gateway_logs::sealed_checks(&d));
    let crit = Arc::new(criteria(input)?);
    let mut files = vec![];
    for f in db::submissions::files(&app.db, Scope::Center, id).await? {
        if f.role != "logs" {
            continue;
        }
        // A log read with its gateway site's mapping is searched with the same mapping (its
        // columns found by the header's names as the check found them).
        let map = match &sealed {
            Some(sealed) => sealed
                .iter()
                .find(|(_, sha, _)| *sha == f.sha256)
                .and_then(|(_, _, c)| c.site_columns()),
            None => super::gateway_logs::kept_check(app, Scope::Center, org_id, site, &f.sha256)
                .await?
                .and_then(|k| k.check.site_columns()),
        };
        files.push((f.name, f.sha256, map, f.size.max(0) as u64));
    }
    Ok(Search {
        actor: actor.clone(),
        submission: id,
        org_id,
        receipt_no,
        files,
        input: input.clone(),
        crit,
        limits: Limits {
            max_inflated: app.config.max_log_bytes.saturating_mul(16),
        },
    })
}

/// What reading the files left: the matcher (gone with a read that failed midway), the
/// files the check no longer reads, how many files were read to their end, and whether every
/// file was.
struct Scanned {
    m: Option<Matcher>,
    unreadable: Vec<String>,
    searched: usize,
    complete: bool,
}

impl Search {
    /// Runs the files through the matcher, one after another, until the end, a file that
    /// cannot be read, or the matcher stops (the page went away, the CSV broke off).
    async fn scan(&self, app: &App, mut m: Matcher, permit: &Permit) -> Scanned {
        use futures_util::StreamExt;
        let (mut unreadable, mut searched) = (vec![], 0);
        for (name, sha, map, _) in &self.files {
            m.file = name.clone();
            let progress = permit.progress.clone();
            let stream = match app.files.read(sha).await {
                Ok(s) => s.inspect(move |chunk| {
                    if let Ok(b) = chunk {
                        progress
                            .read
                            .fetch_add(b.len() as u64, std::sync::atomic::Ordering::Relaxed);
                    }
                }),
                Err(e) => {
                    tracing::warn!(error = %format!("{e:#}"), file = %name, "log search stopped: the stored log cannot be read");
                    return Scanned {
                        m: Some(m),
                        unreadable,
                        searched,
                        complete: false,
                    };
                }
            };
            match visit_stored(stream, self.limits, map.clone(), m).await {
                Ok((back, verdict)) => {
                    m = back;
                    // The check sees only the lines the search's criteria let through, so
                    // a file where none matches reads as a header alone: read, nothing found.
                    let read = match &verdict {
                        Ok(c) => !c.needs_mapping(),
                        Err(r) => *r == Refused::HeaderOnly,
                    };
                    if !read {
                        unreadable.push(name.clone());
                    }
                    searched += 1;
                }
                Err(e) => {
                    // The matcher went with the failed read; what was sent stays sent.
                    tracing::warn!(error = %format!("{e:#}"), file = %name, "log search stopped midway");
                    return Scanned {
                        m: None,
                        unreadable,
                        searched,
                        complete: false,
                    };
                }
            }
            if m.stopped() {
                return Scanned {
                    m: Some(m),
                    unreadable,
                    searched,
                    complete: false,
                };
            }
        }
        Scanned {
            m: Some(m),
            unreadable,
            searched,
            complete: true,
        }
    }

    /// The entry written before the first file is read (`log.searched`: who, which
    /// submission, the criteria, the output and the number of files), so that a search cut
    /// short by a crash still shows. A search whose entry cannot be written does not run.
    async fn audit_start(&self, app: &App, output: &str) -> Result<(), Error> {
        let mut entry = self.actor.audit(
            "log.searched",
            Some(self.org_id),
            self.submission.to_string(),
        );
        let i = &self.input;
        entry.detail = serde_json::json!({
            "output": output,
            "files": self.files.len(),
            "criteria": {
                "user_code": i.user_code.trim(), "id_number": i.id_number.trim(),
                "business_code": i.business_code.trim(), "from": i.from.trim(), "to": i.to.trim(),
            },
        });
        db::audit::append_alone(&app.db, &entry).await?;
        Ok(())
    }

    /// The entry written when the search ends (`log.search_finished`, on the same
    /// submission): the number of matches, the files read to their end and whether the
    /// search ran to its end.
    async fn audit_end(
        &self,
        app: &App,
        output: &str,
        matches: u64,
        complete: bool,
        searched: usize,
    ) -> Result<(), Error> {
        let mut entry = self.actor.audit(
            "log.search_finished",
            Some(self.org_id),
            self.submission.to_string(),
        );
        entry.detail = serde_json::json!({
            "output": output,
            "files": self.files.len(),
            "searched": searched,
            "complete": complete,
            "matches": matches,
        });
        db::audit::append_alone(&app.db, &entry).await?;
        Ok(())
    }

    /// The search for the page: its events arrive on the answer as the scanner finds them
    /// (the scanner waits while the page is behind and stops when it is gone). The search is
    /// audited before anything is read (an error here: nothing was read); its outcome, with
    /// the number of matches and whether it ran to its end, is audited before
    /// [`Event::End`]. No database connection is held while the files are read.
    pub async fn stream(
        self,
        app: Arc<App>,
        permit: Permit,
    ) -> Result<tokio::sync::mpsc::Receiver<Event>, Error> {
        self.audit_start(&app, "page").await?;
        let (tx, rx) = tokio::sync::mpsc::channel(QUEUED_HITS);
        tokio::spawn(async move {
            let started = std::time::Instant::now();
            let m = Matcher::new(
                self.crit.clone(),
                Out::Stream {
                    tx: tx.clone(),
                    sent: 0,
                    gone: false,
                },
            );
            let Scanned {
                m,
                unreadable,
                searched,
                mut complete,
            } = self.scan(&app, m, &permit).await;
            // Stopped midway: the page counted what it received.
            let total = m.map_or(0, |m| m.found);
            if let Err(e) = self
                .audit_end(&app, "page", total, complete, searched)
                .await
            {
                tracing::warn!(error = %e, "log search's end not audited");
                complete = false;
            }
            // The files are read: the next search may start before this page ends.
            drop(permit);
            let _ = tx
                .send(Event::End(Summary {
                    total,
                    files: self.files.len(),
                    searched,
                    unreadable,
                    elapsed: started.elapsed(),
                    complete,
                }))
                .await;
        });
        Ok(rx)
    }

    /// `secportal-log-search-<receipt>[-user<code>][-id<number>][-business<code>]-<when,
    /// JST>.<ext>`: each download named by what was searched (the codes written in letters
    /// and digits only; others are left out of the name) and when.
    pub fn file_name(&self, format: Format) -> String {
        let at = crate::domain::export::jst(&chrono::Utc::now());
        let mut name = format!("secportal-log-search-{}", self.receipt_no);
        let i = &self.input;
        for (tag, value) in [
            ("user", &i.user_code),
            ("id", &i.id_number),
            ("business", &i.business_code),
        ] {
            let v = value.trim();
            if !v.is_empty() && v.len() <= 32 && v.bytes().all(|b| b.is_ascii_alphanumeric()) {
                name.push_str(&format!("-{tag}{v}"));
            }
        }
        format!("{name}-{}.{}", at.format("%Y%m%d-%H%M%S"), format.ext())
    }

    /// Streams every match as CSV (UTF-8 with BOM, like the exports) or as a workbook (its
    /// codes as text, so a 識別番号 keeps its leading zeros) into `chunks`: a CSV as each
    /// match is found, the header at once; a workbook at the end. `labels` are the
    /// [`COLUMNS`]' headings, `words` send and receive, `sheet` the worksheet's name. The
    /// search is audited before anything is read (an error here: nothing was read or sent);
    /// its outcome, with the number of matches, before the file ends.
    #[allow(clippy::too_many_arguments)]
    pub async fn download(
        self,
        app: Arc<App>,
        format: Format,
        labels: Vec<String>,
        words: [String; 2],
        sheet: String,
        chunks: Chunks,
        permit: Permit,
    ) -> Result<(), Error> {
        let output = format.ext();
        let tmp = app.config.data_dir.join("tmp");
        if format == Format::Xlsx {
            tokio::fs::create_dir_all(&tmp)
                .await
                .map_err(anyhow::Error::from)?;
        }
        self.audit_start(&app, output).await?;
        tokio::spawn(async move {
            let errors = chunks.clone();
            // The BOM and the header row go out at once (on a blocking thread: the writer
            // waits for the client), so the answer starts before the first match is found.
            let header = tokio::task::spawn_blocking(move || {
                let mut sink = format.sink(
                    ChannelWriter::new(chunks),
                    &KINDS,
                    Words {
                        labels,
                        yes: String::new(),
                        no: String::new(),
                        sheet,
                    },
                    &tmp,
                )?;
                sink.flush()?;
                Ok::<_, anyhow::Error>(sink)
            })
            .await;
            let header = match header {
                Ok(made) => made,
                Err(e) => Err(e.into()),
            };
            let sink = match header {
                Ok(s) => s,
                Err(e) => {
                    // The client left before the header: the search ends, nothing read.
                    if let Err(e) = self.audit_end(&app, output, 0, false, 0).await {
                        tracing::warn!(error = %e, "log search's end not audited");
                    }
                    return fail_async(errors, e).await;
                }
            };
            let m = Matcher::new(
                self.crit.clone(),
                Out::File {
                    sink,
                    words,
                    broken: None,
                },
            );
            let Scanned {
                m,
                searched,
                complete,
                ..
            } = self.scan(&app, m, &permit).await;
            let (found, out) = match m {
                Some(m) => (m.found, Some(m.out)),
                None => (0, None),
            };
            let ok = complete && matches!(out, Some(Out::File { broken: None, .. }));
            let audited = self.audit_end(&app, output, found, ok, searched).await;
            // The files are read: the next search may start before this file ends.
            drop(permit);
            if let Err(e) = audited {
                return fail_async(errors, anyhow::anyhow!("{e}")).await;
            }
            let Some(Out::File { sink, broken, .. }) = out else {
                return fail_async(errors, anyhow::anyhow!("the log search stopped midway")).await;
            };
            let _ = tokio::task::spawn_blocking(move || {
                let done = match broken {
                    Some(e) => Err(e),
                    None if !complete => Err(anyhow::anyhow!("the log search stopped midway")),
                    None => sink.finish(),
                };
                if let Err(e) = done {
                    fail(&errors, &e);
                }
            })
            .await;
        });
        Ok(())
    }
}

/// Counts the matches in a log file through the same reading and matching as a search of a
/// stored log (for the benchmark; nothing is recorded).
pub async fn count_in_file(
    path: &std::path::Path,
    input: &SearchInput,
    max_log: u64,
) -> Result<Result<u64, crate::domain::gatewaylog::Refused>, Error> {
    use tokio::io::AsyncReadExt;
    let crit = Arc::new(criteria(input)?);
    let file = tokio::fs::File::open(path)
        .await
        .map_err(anyhow::Error::from)?;
    let stream = Box::pin(futures_util::stream::unfold(file, |mut f| async move {
        let mut buf = bytes::BytesMut::with_capacity(256 * 1024);
        match f.read_buf(&mut buf).await {
            Ok(0) => None,
            Ok(_) => Some((Ok::<_, std::io::Error>(buf.freeze()), f)),
            Err(e) => Some((Err(e), f)),
        }
    }));
    let limits = Limits {
        max_inflated: max_log.saturating_mul(16),
    };
    let matcher = Matcher::new(crit, Out::Page(vec![]));
    let (m, verdict) = visit_stored(stream, limits, None, matcher).await?;
    Ok(verdict.map(|_| m.found))
}

async fn fail_async(chunks: Chunks, e: anyhow::Error) {
    let _ = tokio::task::spawn_blocking(move || fail(&chunks, &e)).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_search_waits_for_the_nearest_running_one_at_its_pace() {
        let searches = Searches::new(2);
        assert_eq!(searches.wait(), WAIT.0, "none running: the shortest wait");
        let running = |total: u64, read: u64, secs: u64| {
            let p = Arc::new(Progress {
                started: std::time::Instant::now() - std::time::Duration::from_secs(secs),
                total,
                read: read.into(),
            });
            searches.running.lock().unwrap().push(p);
        };
        // A quarter read in 10 s: 30 s left.
        running(400, 100, 10);
        assert!((30..=31).contains(&searches.wait()), "{}", searches.wait());
        // Another, three quarters read in 30 s: 10 s left, the nearer one.
        running(400, 300, 30);
        assert!((10..=11).contains(&searches.wait()), "{}", searches.wait());
        // A held download that has hardly moved is long, within the bound.
        searches.running.lock().unwrap().clear();
        running(1 << 30, 1, 60);
        assert_eq!(searches.wait(), WAIT.1);
    }

    #[test]
    fn times_read_as_typed_and_days_span_their_whole_length() {
        let at = |s: &str| fields::show(bound(s, false).unwrap().unwrap());
        assert_eq!(at("2026-10-01T09:05"), "2026-10-01 09:05:00");
        assert_eq!(at("2026-10-01 09:05:07"), "2026-10-01 09:05:07");
        assert_eq!(at("2026/10/01"), "2026-10-01 00:00:00");
        // As people type them: one-digit hours and days, full-width digits and signs.
        assert_eq!(at("2026/11/14 9:00"), "2026-11-14 09:00:00");
        assert_eq!(at("2026/1/5 9:05"), "2026-01-05 09:05:00");
        assert_eq!(at("２０２６－１１－１４　９：３０"), "2026-11-14 09:30:00");
        assert_eq!(
            fields::show(bound("2026-11-14 9", true).unwrap().unwrap()),
            "2026-11-14 09:59:59"
        );
        assert_eq!(
            fields::show(bound("2026-10-01", true).unwrap().unwrap()),
            "2026-10-01 23:59:59"
        );
        assert_eq!(bound("", true), Ok(None));
        for bad in [
            "yesterday",
            "2026-13-01",
            "2026-10-01T25:00",
            "2026-10-01T09:00Z",
        ] {
            assert_eq!(bound(bad, false), Err("logsearch.error.time"), "{bad}");
        }
    }

    #[test]
    fn a_search_needs_something_and_a_range_the_right_way_round() {
        let keys = |i: SearchInput| match criteria(&i) {
            Err(Error::Invalid(e)) => e.iter().map(|(f, k)| format!("{f}:{k}")).collect(),
            _ => vec![],
        };
        assert_eq!(
            keys(SearchInput::default()),
            vec!["_form:logsearch.error.nothing"]
        );
        assert_eq!(
            keys(SearchInput {
                from: "2026-10-02".into(),
                to: "2026-10-01".into(),
                ..Default::default()
            }),
            vec!["to:logsearch.error.to_before_from"]
        );
        assert!(
            criteria(&SearchInput {
                id_number: "001".into(),
                ..Default::default()
            })
            .is_ok()
        );
    }
}
