//! The in-app inbox, e-mail opt-outs, and the claims that make scheduled mail go out once.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Db, Tx, on_db, on_tx};

/// Who gets a notice: user, e-mail, language-independent; `mail` false when opted out.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Recipient {
    pub id: Uuid,
    pub email: String,
    pub mail: bool,
}

/// Active users of an organisation (`org` set) or of the Center (`org` `None`), with whether
/// they take e-mail of `kind`.
pub async fn recipients(
    tx: &mut Tx,
    org: Option<Uuid>,
    kind: &str,
) -> Result<Vec<Recipient>, sqlx::Error> {
    on_tx!(tx, c => sqlx::query_as::<_, Recipient>(
        "SELECT u.id, u.email, NOT EXISTS (SELECT 1 FROM mail_optouts m WHERE m.user_id = u.id AND m.kind = $2) AS mail \
         FROM users u WHERE u.status = 'active' AND (($1 IS NULL AND u.org_id IS NULL) OR u.org_id = $1) ORDER BY u.email",
    )
    .bind(org)
    .bind(kind)
    .fetch_all(&mut *c)
    .await)
}

/// One user as a recipient (when active).
pub async fn recipient(
    tx: &mut Tx,
    user: Uuid,
    kind: &str,
) -> Result<Option<Recipient>, sqlx::Error> {
    on_tx!(tx, c => sqlx::query_as::<_, Recipient>(
        "SELECT u.id, u.email, NOT EXISTS (SELECT 1 FROM mail_optouts m WHERE m.user_id = u.id AND m.kind = $2) AS mail \
         FROM users u WHERE u.id = $1 AND u.status = 'active'",
    )
    .bind(user)
    .bind(kind)
    .fetch_optional(&mut *c)
    .await)
}

/// A notice for one user's inbox; `mail_to` set when it is also to be mailed.
pub struct NewNotice<'a> {
    pub user: Uuid,
    pub kind: &'a str,
    pub message: &'a str,
    pub args: &'a serde_json::Value,
    pub link: &'a str,
    pub mail_to: Option<&'a str>,
}

/// Puts a notice in a user's inbox (and its mail in the outbox); answers its id.
pub async fn insert(tx: &mut Tx, n: &NewNotice<'_>) -> Result<Uuid, sqlx::Error> {
    let id = Uuid::now_v7();
    on_tx!(tx, c => sqlx::query(
        "INSERT INTO notifications (id, user_id, kind, message, args, link, read_at, created_at, mail_to) \
         VALUES ($1, $2, $3, $4, $5, $6, NULL, $7, $8)",
    )
    .bind(id)
    .bind(n.user)
    .bind(n.kind)
    .bind(n.message)
    .bind(n.args.to_string())
    .bind(n.link)
    .bind(super::now())
    .bind(n.mail_to)
    .execute(&mut *c)
    .await
    .map(|_| id))
}

/// A notice whose mail has not gone out yet.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Unmailed {
    pub id: Uuid,
    pub mail_to: String,
    pub message: String,
    pub args: String,
    pub link: String,
    pub mail_attempts: i32,
}

/// Mail not yet sent for notices created before `before` and tried fewer than `attempts`
/// times, oldest first.
pub async fn unmailed(
    db: &Db,
    before: DateTime<Utc>,
    attempts: i32,
    limit: i64,
) -> Result<Vec<Unmailed>, sqlx::Error> {
    on_db!(db, p => sqlx::query_as::<_, Unmailed>(
        "SELECT id, mail_to, message, args, link, mail_attempts FROM notifications \
         WHERE mail_to IS NOT NULL AND mailed_at IS NULL AND created_at < $1 AND mail_attempts < $2 \
         ORDER BY created_at LIMIT $3",
    )
    .bind(before)
    .bind(attempts)
    .bind(limit)
    .fetch_all(p)
    .await)
}

/// How many mails are recorded and not yet sent (the outbox), tries used up or not.
pub async fn outbox_waiting(db: &Db) -> Result<i64, sqlx::Error> {
    on_db!(db, p => sqlx::query_scalar(
        "SELECT COUNT(*) FROM notifications WHERE mail_to IS NOT NULL AND mailed_at IS NULL",
    )
    .fetch_one(p)
    .await)
}

/// Records that a notice's mail went out (`sent`) or that one more try failed.
pub async fn mailed(db: &Db, id: Uuid, sent: bool) -> Result<(), sqlx::Error> {
    let sql = if sent {
        "UPDATE notifications SET mailed_at = $2 WHERE id = $1 AND mailed_at IS NULL"
    } else {
        "UPDATE notifications SET mail_attempts = mail_attempts + 1 WHERE id = $1 AND mailed_at IS NULL"
    };
    let now = super::now();
    on_db!(db, p => {
        let q = sqlx::query(sql).bind(id);
        let q = if sent { q.bind(now) } else { q };
        q.execute(p).await.map(|_| ())
    })
}

/// A notice in the inbox.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct NoticeRow {
    pub id: Uuid,
    pub kind: String,
    pub message: String,
    pub args: String,
    pub link: String,
    pub read_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// A user's newest notices.
pub async fn inbox(db: &Db, user: Uuid, limit: i64) -> Result<Vec<NoticeRow>, sqlx::Error> {
    on_db!(db, p => sqlx::query_as::<_, NoticeRow>(
        "SELECT id, kind, message, args, link, read_at, created_at FROM notifications WHERE user_id = $1 \
         ORDER BY created_at DESC, id DESC LIMIT $2",
    )
    .bind(user)
    .bind(limit)
    .fetch_all(p)
    .await)
}

/// How many notices a user has not opened.
pub async fn unread(db: &Db, user: Uuid) -> Result<i64, sqlx::Error> {
    on_db!(db, p => sqlx::query_scalar(
        "SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL",
    )
    .bind(user)
    .fetch_one(p)
    .await)
}

/// Marks one of the user's notices read (`None`: all of them); answers its link.
pub async fn mark_read(
    tx: &mut Tx,
    user: Uuid,
    id: Option<Uuid>,
) -> Result<Option<String>, sqlx::Error> {
    let now = super::now();
    on_tx!(tx, c => match id {
        Some(id) => sqlx::query_scalar(
            "UPDATE notifications SET read_at = COALESCE(read_at, $3) WHERE id = $1 AND user_id = $2 RETURNING link",
        )
        .bind(id)
        .bind(user)
        .bind(now)
        .fetch_optional(&mut *c)
        .await,
        None => sqlx::query("UPDATE notifications SET read_at = $2 WHERE user_id = $1 AND read_at IS NULL")
            .bind(user)
            .bind(now)
            .execute(&mut *c)
            .await
            .map(|_| Some("/inbox".to_string())),
    })
}

/// Marks a user's unread notices with this link read (a notice of what they did themselves).
pub async fn read_by(tx: &mut Tx, user: Uuid, link: &str) -> Result<(), sqlx::Error> {
    let now = super::now();
    on_tx!(tx, c => sqlx::query(
        "UPDATE notifications SET read_at = $3 WHERE user_id = $1 AND link = $2 AND read_at IS NULL",
    )
    .bind(user)
    .bind(link)
    .bind(now)
    .execute(&mut *c)
    .await
    .map(|_| ()))
}

/// The kinds a user has turned e-mail off for.
pub async fn optouts(db: &Db, user: Uuid) -> Result<Vec<String>, sqlx::Error> {
    on_db!(db, p => sqlx::query_scalar("SELECT kind FROM mail_optouts WHERE user_id = $1 ORDER BY kind")
        .bind(user)
        .fetch_all(p)
        .await)
}

/// Replaces a user's opt-outs.
pub async fn set_optouts(tx: &mut Tx, user: Uuid, kinds: &[&str]) -> Result<(), sqlx::Error> {
    on_tx!(tx, c => {
        sqlx::query("DELETE FROM mail_optouts WHERE user_id = $1")
            .bind(user)
            .execute(&mut *c)
            .await?;
        for k in kinds {
            sqlx::query("INSERT INTO mail_optouts (user_id, kind) VALUES ($1, $2)")
                .bind(user)
                .bind(*k)
                .execute(&mut *c)
                .await?;
        }
    });
    Ok(())
}

/// Whether a piece of scheduled work was already claimed (a read, to skip the write).
pub async fn claimed(db: &Db, key: &str) -> Result<bool, sqlx::Error> {
    on_db!(db, p => sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM sent_reminders WHERE key = $1")
        .bind(key)
        .fetch_one(p)
        .await
        .map(|n| n > 0))
}

/// Claims a piece of scheduled work by key; only the first claim of a key answers true.
pub async fn claim(tx: &mut Tx, key: &str) -> Result<bool, sqlx::Error> {
    on_tx!(tx, c => sqlx::query(
        "INSERT INTO sent_reminders (key, created_at) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
    )
    .bind(key)
    .bind(super::now())
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected() == 1))
}

/// Takes or renews the lease `name` for `holder` until `until`; false while another holder's
/// lease runs.
pub async fn lease(
    db: &Db,
    name: &str,
    holder: &str,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    on_db!(db, p => sqlx::query(
        "INSERT INTO job_leases (name, holder, until) VALUES ($1, $2, $4) \
         ON CONFLICT (name) DO UPDATE SET holder = $2, until = $4 WHERE job_leases.holder = $2 OR job_leases.until < $3",
    )
    .bind(name)
    .bind(holder)
    .bind(now)
    .bind(until)
    .execute(p)
    .await
    .map(|r| r.rows_affected() == 1))
}

/// A submission sealed in a period, for the Center's daily digest.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SubmittedRow {
    pub id: Uuid,
    pub receipt_no: String,
    pub kind: String,
    pub org_name: String,
    pub org_code: String,
}

/// Submissions sealed in `[from, to)`.
pub async fn submitted_between(
    db: &Db,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<SubmittedRow>, sqlx::Error> {
    on_db!(db, p => sqlx::query_as::<_, SubmittedRow>(
        "SELECT s.id, s.receipt_no, s.kind, o.name AS org_name, o.user_code AS org_code FROM submissions s \
         JOIN organisations o ON o.id = s.org_id WHERE s.receipt_no IS NOT NULL AND s.submitted_at >= $1 AND s.submitted_at < $2 \
         ORDER BY s.submitted_at, s.id",
    )
    .bind(from)
    .bind(to)
    .fetch_all(p)
    .await)
}
