//! The review queue (審査待ち一覧) as a reviewer asks for it: the filters as typed (a page's
//! query string or an API's parameters), one page in keyset order with the cursors of the
//! pages next to it, the counts per state, and a receipt number looked up directly.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::super::{Actor, App, Error};
use super::REVIEWERS;
use crate::db::{
    self,
    queue::{Cursor, QueueFilter},
};
use crate::domain::ConnectionForm;
use crate::domain::catalogue::CatalogueItem;

/// The queue's filters and position as given: each may be empty, and a value that is not one
/// the queue knows is ignored (the whole queue rather than an error, as a page does).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct QueueParams {
    /// A catalogue item key.
    pub kind: String,
    /// `submitted` (the default), `accepted` or `returned`.
    pub state: String,
    /// The organisation's user code.
    pub org: String,
    /// Only submissions at least this many days old.
    pub age: String,
    /// `mine` or `unassigned`.
    pub who: String,
    /// Organisations with an active connection of this form.
    pub form: String,
    /// A cursor from a page's `next`.
    pub after: String,
    /// A cursor from a page's `previous`.
    pub before: String,
}

/// A line of the queue.
#[derive(Debug, Clone, serde::Serialize)]
pub struct QueueLine {
    pub id: Uuid,
    pub org_id: Uuid,
    pub org_name: String,
    pub org_code: String,
    /// The catalogue item key.
    pub kind: String,
    pub version: i64,
    pub state: String,
    pub submitted_at: DateTime<Utc>,
    pub receipt_no: String,
    /// The reviewer who took it.
    pub assignee: Option<String>,
    /// The office or gateway site it is about (`None`: the whole organisation).
    pub place: Option<String>,
    /// The office of a gateway site.
    pub place_office: Option<String>,
    /// What a reviewer should know before opening it (`domain::flags`), `resubmitted` for a
    /// version after the first, `renewal` for a first version renewing an accepted report, and
    /// `replaced` when a newer report of its place was sent.
    pub flags: Vec<&'static str>,
    /// When a decided line was decided, and by whom.
    pub decided_at: Option<DateTime<Utc>>,
    pub decided_by: Option<String>,
}

/// The flag of a version after the first (a resubmission after a return).
pub const RESUBMITTED: &str = "resubmitted";
/// The flag of a first version that renews an accepted report (its changes are shown on
/// the review page).
pub const RENEWAL: &str = "renewal";
/// The flag of a line whose organisation has sent a newer report of the same item and place.
pub const REPLACED: &str = "replaced";

/// One page of the queue, oldest first.
#[derive(Debug, Clone, serde::Serialize)]
pub struct QueuePage {
    pub lines: Vec<QueueLine>,
    /// Where the next page starts (`after`), when later lines follow.
    #[serde(serialize_with = "cursor_ser")]
    pub next: Option<Cursor>,
    /// Where the previous page ends (`before`), when earlier lines precede.
    #[serde(serialize_with = "cursor_ser")]
    pub previous: Option<Cursor>,
}

fn cursor_ser<S: serde::Serializer>(c: &Option<Cursor>, s: S) -> Result<S::Ok, S::Error> {
    match c {
        Some(c) => s.serialize_some(&cursor_text(*c)),
        None => s.serialize_none(),
    }
}

/// A keyset position as written in a link: `<RFC 3339 time>_<id>`.
pub fn cursor_text(c: Cursor) -> String {
    let (Cursor::After(at, id) | Cursor::Before(at, id)) = c;
    format!(
        "{}_{id}",
        at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
    )
}

fn cursor_of(s: &str) -> Option<(DateTime<Utc>, Uuid)> {
    let (a, i) = s.split_once('_')?;
    Some((
        DateTime::parse_from_rfc3339(a).ok()?.to_utc(),
        Uuid::parse_str(i).ok()?,
    ))
}

/// The filter and position the parameters ask for (`items`: the catalogue's, for the kind).
pub fn queue_filter(
    actor: &Actor,
    items: &[CatalogueItem],
    q: &QueueParams,
    now: DateTime<Utc>,
) -> (QueueFilter, Option<Cursor>) {
    let filter = QueueFilter {
        kind: Some(q.kind.clone()).filter(|k| items.iter().any(|i| &i.key == k)),
        state: Some(q.state.clone())
            .filter(|s| matches!(s.as_str(), "submitted" | "accepted" | "returned")),
        org_code: Some(q.org.trim().to_uppercase()).filter(|o| !o.is_empty()),
        submitted_before: q
            .age
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|d| (0..=3650).contains(d))
            .map(|d| now - chrono::Duration::days(d)),
        assigned_to: (q.who == "mine").then_some(actor.id),
        unassigned: q.who == "unassigned",
        form: ConnectionForm::parse(&q.form).map(|f| f.as_str().to_string()),
    };
    let cursor = match (cursor_of(&q.after), cursor_of(&q.before)) {
        (Some((at, id)), _) => Some(Cursor::After(at, id)),
        (None, Some((at, id))) => Some(Cursor::Before(at, id)),
        (None, None) => None,
    };
    (filter, cursor)
}

/// One page of at most `limit` lines from `cursor`, with the cursors of the pages next to it.
pub async fn queue_page(
    app: &App,
    actor: &Actor,
    filter: &QueueFilter,
    cursor: Option<Cursor>,
    limit: i64,
) -> Result<QueuePage, Error> {
    if !actor.holds(&REVIEWERS) {
        return Err(Error::Forbidden);
    }
    let page = db::queue::queue(&app.db, filter, cursor, limit).await?;
    let names = app.queue_names.lines(&app.db, &page.rows).await?;
    let decided: Vec<Uuid> = page
        .rows
        .iter()
        .filter(|r| !matches!(r.state.as_str(), "submitted" | "under_review"))
        .map(|r| r.id)
        .collect();
    let mut decisions = db::queue::decisions(&app.db, &decided).await?;
    let first = page.rows.first().map(|r| (r.submitted_at, r.id));
    let last = page.rows.last().map(|r| (r.submitted_at, r.id));
    // Going forward, what precedes is known to exist once past the first page; going back,
    // what follows is the page we came from.
    let (later, earlier) = match cursor {
        None => (page.more, false),
        Some(Cursor::After(..)) => (page.more, true),
        Some(Cursor::Before(..)) => (true, page.more),
    };
    Ok(QueuePage {
        lines: page
            .rows
            .into_iter()
            .zip(names)
            .map(|(r, n)| {
                let decision = decisions
                    .iter()
                    .position(|d| d.submission_id == r.id)
                    .map(|i| decisions.swap_remove(i));
                QueueLine {
                    id: r.id,
                    org_id: r.org_id,
                    org_name: n.org_name,
                    org_code: n.org_code,
                    kind: r.kind,
                    version: r.version,
                    state: r.state,
                    submitted_at: r.submitted_at,
                    receipt_no: r.receipt_no,
                    assignee: n.assignee,
                    place: n.place,
                    place_office: n.place_office,
                    flags: {
                        let mut f = crate::domain::flags::parse(&r.flags);
                        if r.version > 1 {
                            f.insert(0, RESUBMITTED);
                        } else if r.renewal {
                            f.insert(0, RENEWAL);
                        }
                        if r.replaced {
                            f.insert(0, REPLACED);
                        }
                        f
                    },
                    decided_at: decision.as_ref().map(|d| d.decided_at),
                    decided_by: decision.map(|d| d.reviewer),
                }
            })
            .collect(),
        next: last.filter(|_| later).map(|(at, id)| Cursor::After(at, id)),
        previous: first
            .filter(|_| earlier)
            .map(|(at, id)| Cursor::Before(at, id)),
    })
}

/// One page of the queue as the parameters ask (`limit` lines at most).
pub async fn queue(
    app: &App,
    actor: &Actor,
    q: &QueueParams,
    limit: i64,
) -> Result<QueuePage, Error> {
    let catalogue = app.catalogue().await?;
    let (filter, cursor) = queue_filter(actor, &catalogue.items, q, db::now());
    queue_page(app, actor, &filter, cursor, limit).await
}

/// The queue's counts per state under a filter (its state and assignee ignored), read from
/// the counters the database keeps with every change (`db::queue::tally`), reused like the
/// page for a second (see [`App::queue_counts`]).
pub async fn queue_counts(
    app: &App,
    actor: &Actor,
    f: &QueueFilter,
) -> Result<Vec<(String, i64)>, Error> {
    if !actor.holds(&REVIEWERS) {
        return Err(Error::Forbidden);
    }
    Ok(app.queue_counts(f).await?)
}

/// A receipt number looked up.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "outcome", content = "value", rename_all = "snake_case")]
pub enum ReceiptLookup {
    /// Nothing was typed.
    Empty,
    /// The submission with that number.
    Found(Uuid),
    /// No submission has it: the number as read.
    Missing(String),
}

/// The submission of a receipt number as typed (read out on the phone: any width or case).
pub async fn find_receipt(app: &App, actor: &Actor, typed: &str) -> Result<ReceiptLookup, Error> {
    if !actor.holds(&REVIEWERS) {
        return Err(Error::Forbidden);
    }
    let receipt = db::receipts::receipt_number(typed);
    if receipt.is_empty() {
        return Ok(ReceiptLookup::Empty);
    }
    Ok(
        match db::submissions::by_receipt(&app.db, &receipt).await? {
            Some(id) => ReceiptLookup::Found(id),
            None => ReceiptLookup::Missing(receipt),
        },
    )
}
