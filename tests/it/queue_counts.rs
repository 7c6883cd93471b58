//! The counts per state above the queue come from counters the database keeps with every
//! change of a submission: after each kind of change, and after many at once, they equal a
//! count of the submissions themselves under every filter; a counter that drifted is found
//! and rebuilt.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use secportal::db::on_db;
use secportal::db::queue::{QueueFilter, counts, rebuild_tally, tally_drift};
use secportal::domain::ScopeKind;
use uuid::Uuid;

use crate::dual_test;
use crate::helpers::TestApp;
use crate::queue::{every_filter, reviewer, seed};

/// A sealed submission as the reference count sees it.
#[derive(sqlx::FromRow)]
struct Sealed {
    state: String,
    kind: String,
    org_code: String,
    org_id: Uuid,
    assigned_to: Option<Uuid>,
    submitted_at: DateTime<Utc>,
}

/// Counts per state under `f`, by reading every sealed submission and filtering here.
async fn reference(app: &TestApp, f: &QueueFilter) -> Vec<(String, i64)> {
    let rows: Vec<Sealed> = on_db!(app.db(), p => sqlx::query_as(
        "SELECT s.state, s.kind, o.user_code AS org_code, s.org_id, s.assigned_to, s.submitted_at FROM submissions s \
         JOIN organisations o ON o.id = s.org_id WHERE s.receipt_no IS NOT NULL",
    )
    .fetch_all(p)
    .await
    .unwrap());
    let forms: Vec<(Uuid, String)> = on_db!(app.db(), p => sqlx::query_as(
        "SELECT org_id, form FROM connections WHERE active",
    )
    .fetch_all(p)
    .await
    .unwrap());
    let forms: HashSet<(Uuid, String)> = forms.into_iter().collect();
    let mut out: BTreeMap<String, i64> = BTreeMap::new();
    for s in rows {
        let shown = f.kind.as_ref().is_none_or(|k| *k == s.kind)
            && f.org_code.as_ref().is_none_or(|o| *o == s.org_code)
            && f.submitted_before.is_none_or(|t| s.submitted_at <= t)
            && f.assigned_to.is_none_or(|a| s.assigned_to == Some(a))
            && (!f.unassigned || s.assigned_to.is_none())
            && f.form
                .as_ref()
                .is_none_or(|form| forms.contains(&(s.org_id, form.clone())));
        if shown {
            *out.entry(s.state).or_default() += 1;
        }
    }
    out.into_iter().collect()
}

/// Every filter of the page, with age limits on both sides of the seeded times (so both ways
/// of counting an age limit run), against the reference; and no counter drifted.
async fn assert_counts_match(app: &TestApp, me: Uuid, after: &str) {
    let start: DateTime<Utc> = "2026-01-01T00:00:00Z".parse().unwrap();
    let mut filters = every_filter(me);
    for secs in [60, 500] {
        filters.extend(every_filter(me).into_iter().map(|mut f| {
            f.submitted_before = f
                .submitted_before
                .map(|_| start + chrono::Duration::seconds(secs));
            f
        }));
    }
    for f in &filters {
        assert_eq!(
            counts(app.db(), f).await.unwrap(),
            reference(app, f).await,
            "after {after}, {f:?}"
        );
    }
    assert_eq!(
        tally_drift(app.db()).await.unwrap(),
        vec![],
        "after {after}"
    );
}

/// Ids of sealed submissions in a state, oldest first.
async fn in_state(app: &TestApp, state: &str, n: i64) -> Vec<Uuid> {
    on_db!(app.db(), p => sqlx::query_scalar(
        "SELECT id FROM submissions WHERE state = $1 AND receipt_no IS NOT NULL ORDER BY submitted_at, id LIMIT $2",
    )
    .bind(state)
    .bind(n)
    .fetch_all(p)
    .await
    .unwrap())
}

async fn org_id(app: &TestApp, code: &str) -> Uuid {
    on_db!(app.db(), p => sqlx::query_scalar("SELECT id FROM organisations WHERE user_code = $1")
        .bind(code)
        .fetch_one(p)
        .await
        .unwrap())
}

/// Runs one statement with these ids bound as `$1`, `$2`, ….
async fn exec(app: &TestApp, sql: &'static str, ids: &[Uuid]) {
    on_db!(app.db(), p => {
        let mut q = sqlx::query(sql);
        for id in ids {
            q = q.bind(*id);
        }
        q.execute(p).await.unwrap();
    });
}

dual_test!(
    queue_counts_equal_a_full_count_after_every_kind_of_change,
    |app| async move {
        use secportal::db::{retention, review, submissions};
        let me = reviewer(&app).await;
        seed(&app, 600, me).await;
        assert_counts_match(&app, me, "seeding").await;
        let db = app.db();
        // The seed took the year's first receipt numbers: sealing continues after them.
        let year = chrono::Datelike::year(&(Utc::now() + chrono::Duration::hours(9)));
        on_db!(db, p => sqlx::query(
            "INSERT INTO receipt_counters (year, last) VALUES ($1, 999000) ON CONFLICT (year) DO UPDATE SET last = 999000",
        )
        .bind(year)
        .execute(p)
        .await
        .map(|_| ())
        .unwrap());

        let waiting = in_state(&app, "submitted", 40).await;
        let mut tx = db.begin().await.unwrap();
        for id in &waiting[..10] {
            review::assign(&mut tx, *id, Some(me), None).await.unwrap();
        }
        for id in &waiting[10..13] {
            review::assign(&mut tx, *id, None, None).await.unwrap();
        }
        tx.commit().await.unwrap();
        assert_counts_match(&app, me, "taking and putting back").await;

        let mut tx = db.begin().await.unwrap();
        for id in &waiting[13..20] {
            review::decide(&mut tx, *id, "accepted", "", me)
                .await
                .unwrap();
        }
        for id in &waiting[20..30] {
            review::decide(&mut tx, *id, "returned", "不足", me)
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
        assert_counts_match(&app, me, "decisions").await;

        // A new version of a returned one: a draft (not counted), then sealed (counted).
        let returned = waiting[20];
        let org: Uuid = on_db!(db, p => sqlx::query_scalar("SELECT org_id FROM submissions WHERE id = $1")
            .bind(returned)
            .fetch_one(p)
            .await
            .unwrap());
        let mut tx = db.begin().await.unwrap();
        let draft = match review::revise(&mut tx, org, returned).await.unwrap() {
            review::Revised::Opened(id) => id,
            other => panic!("no new version: {other:?}"),
        };
        tx.commit().await.unwrap();
        assert_counts_match(&app, me, "a new version's draft").await;
        let mut tx = db.begin().await.unwrap();
        let sealed = submissions::submit(&mut tx, org, draft, me, 1)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert!(sealed.is_some());
        assert_counts_match(&app, me, "sealing the new version").await;

        // A report made and sealed in one step.
        let mut tx = db.begin().await.unwrap();
        submissions::insert_submitted(
            &mut tx,
            &submissions::NewSubmission {
                org_id: org_id(&app, "Q0004").await,
                kind: "antivirus",
                scope_kind: ScopeKind::Organisation,
                location_id: None,
                data: serde_json::json!({}),
                catalogue_revision: 1,
                submitted_by: me,
            },
            None,
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        assert_counts_match(&app, me, "a report sealed at once").await;

        // Removed by the retention purge.
        let old = in_state(&app, "accepted", 15).await;
        let mut tx = db.begin().await.unwrap();
        retention::remove_submissions(&mut tx, &old).await.unwrap();
        tx.commit().await.unwrap();
        assert_counts_match(&app, me, "the retention purge").await;

        // Changes no page makes today, which the triggers count all the same.
        exec(
            &app,
            "UPDATE submissions SET kind = 'router_ports', assigned_to = $2 WHERE id = $1",
            &[waiting[30], me],
        )
        .await;
        exec(&app, "UPDATE submissions SET org_id = (SELECT id FROM organisations WHERE user_code = 'Q0001') WHERE id = $1 OR id = $2", &[waiting[31], waiting[32]]).await;
        assert_counts_match(&app, me, "a kind and an organisation changed").await;

        // The connection form is read with the counters: a connection ended shows at once.
        exec(&app, "UPDATE connections SET active = FALSE WHERE org_id = (SELECT id FROM organisations WHERE user_code = 'Q0001')", &[]).await;
        assert_counts_match(&app, me, "a connection ended").await;
    }
);

dual_test!(
    queue_counts_stay_exact_when_many_reviewers_change_the_queue_at_once,
    |app| async move {
        use secportal::db::review;
        let me = reviewer(&app).await;
        seed(&app, 600, me).await;
        let other = {
            app.add_user("other@center.example.jp", "reviewer", None)
                .await;
            secportal::db::users::by_email(app.db(), "other@center.example.jp")
                .await
                .unwrap()
                .unwrap()
                .id
        };
        let waiting = in_state(&app, "submitted", 320).await;
        // 16 at once, each its own transactions: taking from nobody, handing to the other
        // reviewer, putting back (the counters move both ways between the same keys), and
        // deciding. On PostgreSQL they run in parallel: no deadlock, no lost update.
        let mut tasks = tokio::task::JoinSet::new();
        for (t, ids) in waiting.chunks(20).enumerate() {
            let db = app.db().clone();
            let ids = ids.to_vec();
            tasks.spawn(async move {
                for (k, id) in ids.iter().enumerate() {
                    let mut tx = db.begin().await?;
                    let to = if (t + k) % 2 == 0 {
                        Some(me)
                    } else {
                        Some(other)
                    };
                    review::assign(&mut tx, *id, to, None).await?;
                    tx.commit().await?;
                    let mut tx = db.begin().await?;
                    match k % 3 {
                        0 => {
                            review::assign(&mut tx, *id, None, None).await?;
                        }
                        1 => {
                            review::decide(&mut tx, *id, "accepted", "", me).await?;
                        }
                        _ => {
                            let back = if to == Some(me) { other } else { me };
                            review::assign(&mut tx, *id, Some(back), None).await?;
                        }
                    }
                    tx.commit().await?;
                }
                Ok::<_, sqlx::Error>(())
            });
        }
        let mut done = 0;
        while let Some(r) = tasks.join_next().await {
            r.unwrap().unwrap();
            done += 1;
        }
        assert_eq!(done, 16);
        assert_counts_match(&app, me, "16 reviewers at once").await;
        let by_state: HashMap<String, i64> = counts(app.db(), &QueueFilter::default())
            .await
            .unwrap()
            .into_iter()
            .collect();
        // 600 seeded: 200 accepted; of the 320 taken, every third (k % 3 == 1: 7 of each 20)
        // was accepted too.
        assert_eq!(by_state.get("accepted"), Some(&(200 + 16 * 7)));
        assert_eq!(by_state.get("submitted"), Some(&(400 - 16 * 7)));
    }
);

dual_test!(
    a_queue_counter_that_drifted_is_named_by_the_check_and_rebuilt_at_start,
    |app| async move {
        let me = reviewer(&app).await;
        seed(&app, 120, me).await;
        assert_eq!(tally_drift(app.db()).await.unwrap(), vec![]);
        // Written behind the triggers' back: one counter off by five, one gone.
        on_db!(app.db(), p => {
            sqlx::query("UPDATE queue_tally SET n = n + 5 WHERE state = 'accepted' AND kind = 'system_configuration' AND assignee = $1")
                .bind(me)
                .execute(p)
                .await
                .unwrap();
            sqlx::query("DELETE FROM queue_tally WHERE state = 'submitted' AND kind = 'antivirus' AND assignee = $1")
                .bind(Uuid::nil())
                .execute(p)
                .await
                .unwrap();
        });
        let drift = tally_drift(app.db()).await.unwrap();
        assert!(!drift.is_empty());
        assert!(drift.iter().any(|d| d.state == "accepted"
            && d.kind == "system_configuration"
            && d.assignee == Some(me)
            && d.kept == d.counted + 5));
        assert!(drift.iter().any(|d| d.state == "submitted"
            && d.kind == "antivirus"
            && d.assignee.is_none()
            && d.kept == 0
            && d.counted > 0));
        let f = QueueFilter::default();
        assert_ne!(
            counts(app.db(), &f).await.unwrap(),
            reference(&app, &f).await
        );
        // The start-up check finds it and rebuilds the counters.
        secportal::maintenance::check::spawn_start_check(app.state.app.clone());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while !tally_drift(app.db()).await.unwrap().is_empty() {
            assert!(std::time::Instant::now() < deadline, "not rebuilt");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(
            counts(app.db(), &f).await.unwrap(),
            reference(&app, &f).await
        );
        // And a rebuild of agreeing counters changes nothing.
        rebuild_tally(app.db()).await.unwrap();
        assert_counts_match(&app, me, "a rebuild").await;
    }
);

dual_test!(
    counts_are_reused_for_a_second_per_filter_and_retired_by_a_change_through_this_process,
    |app| async move {
        let me = reviewer(&app).await;
        seed(&app, 60, me).await;
        let all = QueueFilter::default();
        let mine = QueueFilter {
            assigned_to: Some(me),
            ..QueueFilter::default()
        };
        let before = app.state.queue_counts(&all).await.unwrap();
        assert_eq!(before, reference(&app, &all).await);
        // "Mine" is its own entry, not the unfiltered counts.
        assert_eq!(
            app.state.queue_counts(&mine).await.unwrap(),
            reference(&app, &mine).await
        );
        assert_ne!(reference(&app, &mine).await, before);
        // A change another instance made: the counts shown stay for at most a second.
        exec(
            &app,
            "UPDATE submissions SET state = 'accepted' WHERE state = 'submitted'",
            &[],
        )
        .await;
        let now = reference(&app, &all).await;
        assert_ne!(now, before);
        let again = app.state.queue_counts(&all).await.unwrap();
        if again != now {
            assert_eq!(again, before, "reused within the second");
        }
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        assert_eq!(app.state.queue_counts(&all).await.unwrap(), now);
        // A change through this process (any POST bumps the generation) retires them at once.
        exec(
            &app,
            "UPDATE submissions SET state = 'returned' WHERE state = 'accepted'",
            &[],
        )
        .await;
        app.state
            .generation
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        assert_eq!(
            app.state.queue_counts(&all).await.unwrap(),
            reference(&app, &all).await
        );
    }
);
