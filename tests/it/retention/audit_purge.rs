//! The purge of the audit trail's oldest entries behind a sealed checkpoint, and the
//! scheduler's daily purge.

use chrono::Utc;
use secportal::db::audit::{self, Verdict};
use secportal::db::on_db;
use secportal::domain::retention::FixedClock;

use super::{ADMIN, after, fixture, last_purge_detail, run, verify_holds};
use crate::dual_test;
use crate::helpers::PASSWORD;

dual_test!(
    audit_verify_still_passes_after_the_oldest_entries_are_purged,
    |app| async move {
        let f = fixture(&app).await;
        let head = audit::anchor(app.db()).await.unwrap();
        let r = run(&app, &after(f.at, 60, 1)).await.unwrap();
        // Everything before the purge was old: all but the head went.
        assert_eq!(r.audit_entries as i64, head.seq - 1);
        let cp = audit::checkpoint(app.db()).await.unwrap().unwrap();
        assert_eq!(cp.through_seq, head.seq - 1);
        assert_eq!(
            app.count("audit_log").await,
            2,
            "the old head and the purge's entry"
        );
        verify_holds(&app).await;
        // An anchor logged before the purge still holds.
        assert_eq!(
            audit::verify_against(app.db(), std::slice::from_ref(&head))
                .await
                .unwrap(),
            Verdict::Intact(head.seq + 1)
        );
        let d = last_purge_detail(&app).await;
        assert_eq!(d["audit"]["through_seq"].as_i64().unwrap(), head.seq - 1);
        // Entries past the checkpoint still cannot be deleted, nor the checkpoint moved back.
        let del = on_db!(app.db(), p => sqlx::query("DELETE FROM audit_log").execute(p).await.map(|_| ()));
        assert!(del.is_err());
        let back = on_db!(app.db(), p => sqlx::query("UPDATE audit_checkpoint SET through_seq = 1").execute(p).await.map(|_| ()));
        assert!(back.is_err());
        // More entries, then a second purge moves the checkpoint on.
        app.login(ADMIN, PASSWORD).await;
        let r = run(&app, &after(f.at, 120, 0)).await.unwrap();
        assert!(r.audit_entries >= 2);
        let cp2 = audit::checkpoint(app.db()).await.unwrap().unwrap();
        assert!(cp2.through_seq > cp.through_seq);
        verify_holds(&app).await;

        // Someone with write access but no key cuts more entries off and moves the
        // checkpoint over them (guards switched off): the seal does not match.
        let next: (i64, String) = on_db!(app.db(), p => sqlx::query_as("SELECT seq, hash FROM audit_log ORDER BY seq LIMIT 1").fetch_one(p).await).unwrap();
        let forge = vec![
            format!("DELETE FROM audit_log WHERE seq = {}", next.0),
            format!(
                "UPDATE audit_checkpoint SET through_seq = {}, through_hash = '{}'",
                next.0, next.1
            ),
        ];
        without_guards(app.db(), forge).await;
        assert_eq!(
            audit::verify(app.db()).await.unwrap(),
            Verdict::Broken {
                seq: next.0 + 1,
                reason: "the retention checkpoint does not match its seal"
            }
        );
    }
);

/// Runs SQL with the audit trail's and the checkpoint's guards switched off, as someone with
/// write access to the database could (SQLite: triggers dropped and made again; PostgreSQL:
/// disabled and enabled).
async fn without_guards(db: &secportal::db::Db, statements: Vec<String>) {
    let tables = ["audit_log", "audit_checkpoint"];
    match db.pool() {
        secportal::db::Pool::Sqlite(p) => {
            let mut tx = p.begin().await.unwrap();
            let triggers: Vec<(String, String)> = sqlx::query_as(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN ('audit_log', 'audit_checkpoint')",
            )
            .fetch_all(&mut *tx)
            .await
            .unwrap();
            let drop = triggers.iter().map(|(n, _)| format!("DROP TRIGGER {n}"));
            let make = triggers.iter().map(|(_, sql)| sql.clone());
            for sql in drop.chain(statements).chain(make) {
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .execute(&mut *tx)
                    .await
                    .unwrap();
            }
            tx.commit().await.unwrap();
        }
        secportal::db::Pool::Postgres(p) => {
            let mut tx = p.begin().await.unwrap();
            let off = tables.map(|t| format!("ALTER TABLE {t} DISABLE TRIGGER USER"));
            let on = tables.map(|t| format!("ALTER TABLE {t} ENABLE TRIGGER USER"));
            for sql in off.into_iter().chain(statements).chain(on) {
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .execute(&mut *tx)
                    .await
                    .unwrap();
            }
            tx.commit().await.unwrap();
        }
    }
}

dual_test!(
    the_scheduler_purges_once_a_day_from_two_in_the_morning_japan_time,
    |app| async move {
        use chrono::TimeZone;
        app.add_user(ADMIN, "center_admin", None).await;
        let files = &app.state.files;
        // 01:00 JST is 16:00 UTC the day before.
        let at = |h: u32| {
            FixedClock(
                Utc.with_ymd_and_hms(2031, 12, 1, h, 0, 0).unwrap() - chrono::Duration::hours(9),
            )
        };
        secportal::retention::daily(
            app.db(),
            files,
            &at(1),
            secportal::retention::PURGE_FROM_HOUR,
            &Default::default(),
        )
        .await
        .unwrap();
        assert_eq!(
            app.audit_count("retention.purged").await,
            0,
            "not before 02:00 JST"
        );
        secportal::retention::daily(
            app.db(),
            files,
            &at(3),
            secportal::retention::PURGE_FROM_HOUR,
            &Default::default(),
        )
        .await
        .unwrap();
        assert_eq!(app.audit_count("retention.purged").await, 1);
        secportal::retention::daily(
            app.db(),
            files,
            &at(23),
            secportal::retention::PURGE_FROM_HOUR,
            &Default::default(),
        )
        .await
        .unwrap();
        assert_eq!(app.audit_count("retention.purged").await, 1, "once a day");
        let next_day = FixedClock(at(3).0 + chrono::Duration::days(1));
        secportal::retention::daily(
            app.db(),
            files,
            &next_day,
            secportal::retention::PURGE_FROM_HOUR,
            &Default::default(),
        )
        .await
        .unwrap();
        assert_eq!(app.audit_count("retention.purged").await, 2);
        verify_holds(&app).await;
    }
);
