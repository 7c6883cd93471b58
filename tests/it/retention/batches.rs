//! The purge in bounded batches: each its own transaction and audit entry, read through the
//! purge's indexes, stopping between two when the server shuts down.

use std::sync::atomic::AtomicBool;

use secportal::db::on_db;
use secportal::retention::{Run, purge_in_batches};

use super::{
    A, after, exists, fixture, last_purge_detail, run, submit_configuration, verify_holds,
};
use crate::dual_test;
use crate::helpers::{PASSWORD, TestApp};

/// When the database says each submission was replaced (NULL: in force, or a gateway log).
async fn replaced_at(app: &TestApp, id: &str) -> Option<String> {
    let id: uuid::Uuid = id.parse().unwrap();
    on_db!(app.db(), p => sqlx::query_scalar("SELECT CAST(replaced_at AS TEXT) FROM submissions WHERE id = $1").bind(id).fetch_one(p).await).unwrap()
}

dual_test!(
    a_purge_runs_in_batches_and_a_shutdown_stops_it_between_two,
    |app| async move {
        let f = fixture(&app).await;
        // The version sealed later replaced the first; the ones in force and the log never.
        assert!(replaced_at(&app, &f.a1).await.is_some());
        assert!(replaced_at(&app, &f.b1).await.is_some());
        for id in [&f.a2, &f.b2, &f.a_log] {
            assert_eq!(replaced_at(&app, id).await, None, "{id}");
        }
        let day = after(f.at, 61, 0);
        let plan = secportal::retention::plan(app.db(), day.0).await.unwrap();
        assert_eq!((plan.submissions.count, plan.gateway_logs.count), (2, 1));
        assert_eq!(plan.submissions.first.len(), 2);

        // Told to stop from the start: one batch of one, then it gives the day back.
        let stop = AtomicBool::new(true);
        let r = purge_in_batches(
            app.db(),
            &app.state.files,
            &day,
            Run::Daily,
            "system",
            1,
            &stop,
        )
        .await
        .unwrap()
        .unwrap();
        assert!(r.interrupted);
        assert_eq!(r.batches, 1);
        assert_eq!(r.submissions.len() + r.gateway_logs.len(), 1);
        assert_eq!(app.audit_count("retention.purged").await, 1);
        let left = [&f.a1, &f.b1, &f.a_log];
        let mut kept = 0;
        for id in left {
            kept += i32::from(exists(&app, id).await);
        }
        assert_eq!(kept, 2, "one taken, two left for the next run");

        // The same day's scheduled purge takes the rest (the claim was given back).
        let r = run(&app, &day).await.expect("the day was given back");
        assert!(!r.interrupted);
        assert_eq!(r.submissions.len() + r.gateway_logs.len(), 2);
        for id in left {
            assert!(!exists(&app, id).await, "{id}");
        }
        assert!(exists(&app, &f.a2).await && exists(&app, &f.b2).await);
        assert!(run(&app, &day).await.is_none(), "now the day is done");
        verify_holds(&app).await;

        // Batches of one, not stopped: each version its own transaction and audit entry.
        app.login(A, PASSWORD).await;
        let a3 = submit_configuration(&app, &f.org_a, "A 第3版").await;
        let a4 = submit_configuration(&app, &f.org_a, "A 第4版").await;
        assert!(replaced_at(&app, &f.a2).await.is_some());
        assert!(replaced_at(&app, &a3).await.is_some());
        let later = after(secportal::db::now(), 61, 0);
        let go = AtomicBool::new(false);
        let r = purge_in_batches(app.db(), &app.state.files, &later, Run::Now, "cli", 1, &go)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (r.batches, r.submissions.len(), r.interrupted),
            (2, 2, false)
        );
        // (The first batch also took the trail's old prefix, earlier purges' entries with it.)
        let d = last_purge_detail(&app).await;
        assert_eq!(d["batch"], 2);
        assert_eq!(d["submissions"]["count"], 1);
        assert!(!exists(&app, &f.a2).await && !exists(&app, &a3).await);
        assert!(exists(&app, &a4).await, "the version in force stays");
        verify_holds(&app).await;
    }
);
