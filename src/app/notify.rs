//! Notifications: an inbox entry for every recipient, and e-mail unless they turned that kind
//! off. Events notify inside the transaction that changes state (so the inbox never disagrees
//! with the record) and mail after it commits; the mail is recorded with the notice and marked
//! when sent, and the scheduler sends again what was not (at least once, not at most once). Scheduled mail — the Center's daily digest of
//! new submissions, and reminders 7 days and 1 day before a due date and once overdue — runs
//! inside the server under a lease, and each piece is claimed by key, so two instances on one
//! database send it once.

use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use uuid::Uuid;

use super::App;
use crate::db::{self, Tx};
use crate::mail::Outgoing;

/// The kinds a user can turn e-mail off for (the inbox keeps them all).
pub const KINDS: [&str; 9] = [
    "submitted",
    "received",
    "decided",
    "instruction",
    "answered",
    "extension",
    "request",
    "reminder",
    "comment",
];

/// The kinds that reach the users of an organisation, and those that reach the Center.
pub const ORG_KINDS: [&str; 7] = [
    "received",
    "decided",
    "instruction",
    "extension",
    "request",
    "reminder",
    "comment",
];
pub const CENTER_KINDS: [&str; 4] = ["submitted", "answered", "extension", "comment"];

/// Something to tell.
pub struct Notice {
    /// One of [`KINDS`].
    pub kind: &'static str,
    /// Locale prefix with `.subject` and `.body` (mail) — the inbox shows the subject.
    pub message: &'static str,
    pub args: Vec<(&'static str, String)>,
    /// Path inside the portal.
    pub link: String,
}

/// Mail to send once the transaction has committed: each is also in the outbox (its notice's
/// row), so what fails or is cut short here is sent again by [`retry_mail`].
#[derive(Default)]
#[must_use = "send the mail after commit"]
pub struct Pending(Vec<(Uuid, Outgoing)>);

impl Pending {
    /// This mail and then `more`.
    pub fn and(mut self, more: Pending) -> Pending {
        self.0.extend(more.0);
        self
    }

    /// Sends in the background; failures are logged and left to [`retry_mail`].
    pub fn send(self, app: &App) {
        if self.0.is_empty() {
            return;
        }
        let (db, mailer) = (app.db.clone(), app.mailer.clone());
        tokio::spawn(async move {
            for (id, out) in self.0 {
                record(&db, id, super::send_with(&mailer, out).await).await;
            }
        });
    }

    /// Sends now, in order (the scheduler, and tests that read the mail folder).
    pub async fn send_now(self, state: &App) {
        for (id, out) in self.0 {
            deliver(state, id, out).await;
        }
    }
}

/// Sends one notice's mail and records the outcome in the outbox.
async fn deliver(state: &App, id: Uuid, out: Outgoing) -> bool {
    let sent = super::send_logged(state, out).await;
    record(&state.db, id, sent).await;
    sent
}

/// Records whether a notice's mail went.
async fn record(db: &db::Db, id: Uuid, sent: bool) {
    if let Err(e) = db::notifications::mailed(db, id, sent).await {
        tracing::warn!(error = %e, "could not record the mail's outcome");
    }
}

/// How long after its notice a mail counts as not sent (the sender after commit normally
/// finishes well within it), and how often it is tried before it is given up (logged).
const RETRY_AFTER: Duration = Duration::minutes(2);
const MAX_ATTEMPTS: i32 = 10;

/// Sends again the mail of notices that did not go out (the mail server was down, or the
/// process stopped between commit and sending); answers how many went out now.
pub async fn retry_mail(state: &App, now: DateTime<Utc>) -> anyhow::Result<usize> {
    let rows = db::notifications::unmailed(&state.db, now - RETRY_AFTER, MAX_ATTEMPTS, 100).await?;
    let mut sent = 0;
    for r in rows {
        let mut args: Vec<(String, String)> =
            serde_json::from_str::<serde_json::Map<_, _>>(&r.args)
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k, v.as_str().unwrap_or_default().to_string()))
                .collect();
        args.push(("link".into(), link_to(&state.config.base_url, &r.link)));
        let out = Outgoing {
            to: r.mail_to,
            kind: r.message,
            args,
        };
        if deliver(state, r.id, out).await {
            sent += 1;
        } else if r.mail_attempts + 1 >= MAX_ATTEMPTS {
            tracing::error!(notice = %r.id, "mail given up after {MAX_ATTEMPTS} attempts");
        }
    }
    Ok(sent)
}

fn link_to(base: &url::Url, path: &str) -> String {
    base.join(path).map(|u| u.to_string()).unwrap_or_default()
}

/// Whom a notice is for.
pub enum To {
    /// Every active user of the organisation.
    Org(Uuid),
    /// Every active Center user.
    Center,
    /// One user.
    User(Uuid),
}

/// Files the notice in the inbox of every recipient and answers the mail to send after commit.
pub async fn notify(
    tx: &mut Tx,
    base: &url::Url,
    to: To,
    n: &Notice,
) -> Result<Pending, sqlx::Error> {
    let recipients = match to {
        To::Org(org) => db::notifications::recipients(tx, Some(org), n.kind).await?,
        To::Center => db::notifications::recipients(tx, None, n.kind).await?,
        To::User(u) => db::notifications::recipient(tx, u, n.kind)
            .await?
            .into_iter()
            .collect(),
    };
    let args: serde_json::Map<String, serde_json::Value> = n
        .args
        .iter()
        .map(|(k, v)| (k.to_string(), serde_json::Value::String(v.clone())))
        .collect();
    let args = serde_json::Value::Object(args);
    let link = link_to(base, &n.link);
    let mut pending = Pending::default();
    for r in recipients {
        let id = db::notifications::insert(
            tx,
            &db::notifications::NewNotice {
                user: r.id,
                kind: n.kind,
                message: n.message,
                args: &args,
                link: &n.link,
                mail_to: r.mail.then_some(r.email.as_str()),
            },
        )
        .await?;
        if r.mail {
            let mut a = n.args.clone();
            a.push(("link", link.clone()));
            pending.0.push((id, Outgoing::new(r.email, n.message, a)));
        }
    }
    Ok(pending)
}

fn jst_date(t: DateTime<Utc>) -> NaiveDate {
    (t + Duration::hours(9)).date_naive()
}

fn jst_midnight(d: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default()) - Duration::hours(9)
}

/// What one run sent: digests to the Center, reminder digests to organisations; and the
/// audit anchor it logged.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct RunReport {
    pub center_digests: usize,
    pub org_digests: usize,
    /// Audit anchors logged (one a day).
    pub anchors: usize,
}

/// Runs the scheduled mail for the moment `now` (a no-op before the hour the configuration
/// names, `SECPORTAL_MAIL_HOUR`, 08:00 JST by default; and for anything already claimed).
pub async fn run_once(state: &App, now: DateTime<Utc>) -> anyhow::Result<RunReport> {
    let mut report = RunReport::default();
    let local = now + Duration::hours(9);
    if chrono::Timelike::hour(&local) < state.config.schedule.mail_hour {
        return Ok(report);
    }
    let today = jst_date(now);
    let base = &state.config.base_url;

    let catalogue = state.catalogue().await?;
    let title = |key: &str, lang: &str| catalogue.item_title(key, lang);
    let langs = (
        crate::i18n::Tr::new(crate::i18n::Lang::Ja),
        crate::i18n::Tr::new(crate::i18n::Lang::En),
    );

    // The audit chain's head, once a day, to the log: kept outside the database, it shows
    // later whether entries were cut off or rewritten (`audit verify --anchors`).
    // Once logged, the day's anchor costs one small read a minute.
    let anchor_key = format!("audit-anchor:{today}");
    let mut anchor = None;
    if !db::notifications::claimed(&state.db, &anchor_key).await? {
        let mut tx = state.db.begin().await?;
        if db::notifications::claim(&mut tx, &anchor_key).await? {
            // Read before the claim commits: a failed read leaves the day's anchor unclaimed.
            let anchor = anchor.insert(db::audit::anchor(&state.db).await?);
            tx.commit().await?;
            tracing::info!(
                target: "secportal::audit_anchor",
                seq = anchor.seq,
                hash = %anchor.hash,
                "{}",
                anchor.line()
            );
            report.anchors += 1;
        }
    }

    // The Center's digest of yesterday's submissions (JST), once a day, with the anchor.
    let yesterday = today.pred_opt().unwrap_or(today);
    let center_key = format!("digest:center:{yesterday}");
    // Runs every minute: once the day's digest went out, one small read and nothing else.
    let subs = if db::notifications::claimed(&state.db, &center_key).await? {
        vec![]
    } else {
        db::notifications::submitted_between(
            &state.db,
            jst_midnight(yesterday),
            jst_midnight(today),
        )
        .await?
    };
    if !subs.is_empty() {
        let anchor = match anchor {
            Some(a) => a,
            None => db::audit::anchor(&state.db).await?,
        };
        let mut tx = state.db.begin().await?;
        if db::notifications::claim(&mut tx, &center_key).await? {
            let list = |lang: &str| {
                subs.iter()
                    .map(|s| {
                        format!(
                            "・{} {} {}",
                            s.receipt_no,
                            crate::i18n::org_label(&s.org_name, &s.org_code, lang),
                            title(&s.kind, lang)
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            let pending = notify(
                &mut tx,
                base,
                To::Center,
                &Notice {
                    kind: "submitted",
                    message: "mail.digest_submitted",
                    args: vec![
                        ("date", yesterday.to_string()),
                        ("count", subs.len().to_string()),
                        ("list_ja", list("ja")),
                        ("list_en", list("en")),
                        ("anchor", anchor.line()),
                    ],
                    link: "/review".into(),
                },
            )
            .await?;
            tx.commit().await?;
            pending.send_now(state).await;
            report.center_digests += 1;
        }
    }

    // Reminders: unclosed instructions and open requests due within 7 days, within 1 day, or
    // overdue; each reminder once (per due date, so an extension starts again), one digest per
    // organisation per day. Windows rather than exact days, so an item issued after the day's
    // digest, or a day the portal was down, is reminded at the next digest instead of never.
    // A request with an upload window follows it: nothing while uploads are still refused,
    // then one notice that the window has opened (or the due reminder, when that is near).
    let open = db::followup::open_items(&state.db, None).await?;
    let mut by_org: std::collections::BTreeMap<Uuid, Vec<(String, &db::followup::OpenRow)>> =
        Default::default();
    for o in open.iter().filter(|o| o.state == "open") {
        let Some(when) = reminder_due(o, today) else {
            continue;
        };
        let day = if when == "opened" {
            o.opens_on.unwrap_or(o.due_date)
        } else {
            o.due_date
        };
        by_org
            .entry(o.org_id)
            .or_default()
            .push((format!("reminder:{when}:{}:{day}", o.id), o));
    }
    for (org, items) in by_org {
        let key = format!("digest:org:{org}:{today}");
        if db::notifications::claimed(&state.db, &key).await? {
            continue;
        }
        let mut tx = state.db.begin().await?;
        if !db::notifications::claim(&mut tx, &key).await? {
            continue;
        }
        let (mut ja, mut en) = (vec![], vec![]);
        for (key, o) in &items {
            if db::notifications::claim(&mut tx, key).await? {
                for (lines, t) in [(&mut ja, &langs.0), (&mut en, &langs.1)] {
                    let what = t.t(if o.instruction {
                        "followup.instruction"
                    } else {
                        "followup.request"
                    });
                    let days = (o.due_date - today).num_days();
                    let late = match days {
                        _ if key.starts_with("reminder:opened:") => {
                            t.t("followup.window_opened").to_string()
                        }
                        d if d < 0 => t.t("followup.overdue").to_string(),
                        0 => t.t("followup.due_today").to_string(),
                        1 => t.t("followup.one_day_left").to_string(),
                        d => t.f("followup.days_left", &[("n", &d.to_string())]),
                    };
                    let window = match o.opens_on {
                        Some(opens) => format!(
                            " {}",
                            t.f(
                                "gwlog.window",
                                &[
                                    ("opens", &opens.to_string()),
                                    ("due", &o.due_date.to_string())
                                ]
                            )
                        ),
                        None => String::new(),
                    };
                    // A full-width bracket needs no space before it.
                    let sep = if late.starts_with('（') { "" } else { " " };
                    lines.push(format!(
                        "・{what} {} — {}{sep}{late}{window}",
                        title(&o.item_key, t.code()),
                        o.due_date
                    ));
                }
            }
        }
        if ja.is_empty() {
            // Everything was reminded already: keep the day's claim so the next minutes skip
            // this organisation with one read.
            tx.commit().await?;
            continue;
        }
        let pending = notify(
            &mut tx,
            base,
            To::Org(org),
            &Notice {
                kind: "reminder",
                message: "mail.reminder",
                args: vec![
                    ("date", today.to_string()),
                    ("count", ja.len().to_string()),
                    ("list_ja", ja.join("\n")),
                    ("list_en", en.join("\n")),
                ],
                link: format!("/orgs/{org}/followup"),
            },
        )
        .await?;
        tx.commit().await?;
        pending.send_now(state).await;
        report.org_digests += 1;
    }
    Ok(report)
}

/// Which reminder an open item is due for today, if any: `due7`, `due1`, `overdue`, or
/// `opened` for a request whose upload window has opened within the last week, after the day
/// it was issued (the request's own mail says a window open from the start), and is not due
/// within 7 days. Nothing for a request whose window has not opened yet (uploads are refused).
fn reminder_due(o: &db::followup::OpenRow, today: NaiveDate) -> Option<&'static str> {
    if let Some(opens) = o.opens_on
        && opens > today
    {
        return None;
    }
    match (o.due_date - today).num_days() {
        2..=7 => Some("due7"),
        0..=1 => Some("due1"),
        d if d < 0 => Some("overdue"),
        _ => match o.opens_on {
            Some(opens) if (today - opens).num_days() < 7 && opens > jst_date(o.created_at) => {
                Some("opened")
            }
            _ => None,
        },
    }
}

/// How long a scheduler lease lasts; renewed every tick.
const LEASE: Duration = Duration::minutes(5);

/// Runs the schedule every minute (`SECPORTAL_SCHEDULER_SECS`) while this instance holds the
/// lease.
pub fn spawn_scheduler(state: Arc<App>) {
    let holder = Uuid::now_v7().to_string();
    tokio::spawn(async move {
        let every = state.config.schedule.every;
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        loop {
            tick.tick().await;
            let now = db::now();
            match db::notifications::lease(&state.db, "scheduler", &holder, now, now + LEASE).await
            {
                Ok(true) => {
                    if let Err(e) = retry_mail(&state, now).await {
                        tracing::warn!(error = %e, "mail retry failed");
                    }
                    if let Err(e) = run_once(&state, now).await {
                        tracing::warn!(error = %e, "scheduled mail failed");
                    }
                    let clock = crate::domain::retention::SystemClock;
                    if let Err(e) = crate::retention::daily(
                        &state.db,
                        &state.files,
                        &clock,
                        state.config.purge_hour,
                        &state.stopping,
                    )
                    .await
                    {
                        tracing::warn!(error = %e, "retention purge failed");
                    }
                }
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, "scheduler lease failed"),
            }
        }
    });
}
