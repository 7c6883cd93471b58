//! The audit chain against someone who can write to the database but has no key: every
//! tampering is done in plain SQL with the audit triggers switched off, as such a person could.

use reqwest::StatusCode;
use secportal::db::audit::{self, Anchor, Mac, Row, Verdict};
use secportal::db::{Db, Pool, on_db};

use crate::dual_test;
use crate::helpers::{PASSWORD, TestApp};

const ADMIN: &str = "admin@center.example.jp";

/// A few entries: the admin created, a sign-in, a sign-out, and another sign-in.
async fn some_entries(app: &TestApp) -> i64 {
    app.add_user(ADMIN, "center_admin", None).await;
    app.login(ADMIN, PASSWORD).await;
    app.post("/logout", &[]).await;
    app.login(ADMIN, PASSWORD).await;
    let n = app.count("audit_log").await;
    assert!(n >= 4, "{n} entries");
    assert_eq!(audit::verify(app.db()).await.unwrap(), Verdict::Intact(n));
    n
}

async fn all_rows(db: &Db) -> Vec<Row> {
    on_db!(db, p => sqlx::query_as::<_, Row>(
        "SELECT seq, at, actor_id, actor, org_id, action, target, ip, detail, prev_hash, hash \
         FROM audit_log ORDER BY seq",
    )
    .fetch_all(p)
    .await)
    .unwrap()
}

/// Where the head is left after tampering.
#[derive(PartialEq)]
enum Head {
    /// Untouched.
    Keep,
    /// Moved to the last entry as rewritten, as a careful forger would.
    ToLast,
}

macro_rules! insert_row {
    ($conn:expr, $r:expr) => {
        sqlx::query(
            "INSERT INTO audit_log (seq, at, actor_id, actor, org_id, action, target, ip, detail, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind($r.seq)
        .bind($r.at)
        .bind($r.actor_id)
        .bind(&$r.actor)
        .bind($r.org_id)
        .bind(&$r.action)
        .bind(&$r.target)
        .bind(&$r.ip)
        .bind(&$r.detail)
        .bind(&$r.prev_hash)
        .bind(&$r.hash)
        .execute(&mut *$conn)
        .await
        .map(|_| ())
    };
}

/// In one transaction with every audit trigger switched off (SQLite: dropped and made again;
/// PostgreSQL: disabled and enabled): inserts `rows` as given, then runs `statements`.
async fn without_triggers_insert(db: &Db, rows: &[Row], statements: &[String]) {
    match db.pool() {
        Pool::Sqlite(p) => {
            let mut tx = p.begin().await.unwrap();
            let triggers: Vec<(String, String)> = sqlx::query_as(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' \
                 AND tbl_name IN ('audit_log', 'audit_head')",
            )
            .fetch_all(&mut *tx)
            .await
            .unwrap();
            assert!(triggers.len() >= 4);
            for (name, _) in &triggers {
                sqlx::query(sqlx::AssertSqlSafe(format!("DROP TRIGGER {name}")))
                    .execute(&mut *tx)
                    .await
                    .unwrap();
            }
            for r in rows {
                insert_row!(tx, r).unwrap();
            }
            for s in statements {
                sqlx::query(sqlx::AssertSqlSafe(s.clone()))
                    .execute(&mut *tx)
                    .await
                    .unwrap();
            }
            for (_, sql) in &triggers {
                sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                    .execute(&mut *tx)
                    .await
                    .unwrap();
            }
            tx.commit().await.unwrap();
        }
        Pool::Postgres(p) => {
            let mut tx = p.begin().await.unwrap();
            for t in ["audit_log", "audit_head"] {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "ALTER TABLE {t} DISABLE TRIGGER USER"
                )))
                .execute(&mut *tx)
                .await
                .unwrap();
            }
            for r in rows {
                insert_row!(tx, r).unwrap();
            }
            for s in statements {
                sqlx::query(sqlx::AssertSqlSafe(s.clone()))
                    .execute(&mut *tx)
                    .await
                    .unwrap();
            }
            for t in ["audit_log", "audit_head"] {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "ALTER TABLE {t} ENABLE TRIGGER USER"
                )))
                .execute(&mut *tx)
                .await
                .unwrap();
            }
            tx.commit().await.unwrap();
        }
    }
}

/// Runs SQL with every audit trigger switched off.
async fn without_triggers(db: &Db, statements: &[String]) {
    without_triggers_insert(db, &[], statements).await
}

/// Inserts one row as given, with the triggers off.
async fn insert_raw(db: &Db, r: &Row) {
    without_triggers_insert(db, std::slice::from_ref(r), &[]).await
}

/// Lets `change` rewrite the whole trail, then stores it as rewritten (triggers off).
async fn tamper(db: &Db, head: Head, change: impl FnOnce(&mut Vec<Row>)) {
    let mut rows = all_rows(db).await;
    change(&mut rows);
    let mut statements = vec![];
    if head == Head::ToLast {
        let (seq, hash) = rows
            .iter()
            .max_by_key(|r| r.seq)
            .map(|r| (r.seq, r.hash.clone()))
            .unwrap_or((0, audit::genesis()));
        statements.push(format!(
            "UPDATE audit_head SET seq = {seq}, hash = '{hash}' WHERE id = 1"
        ));
    }
    without_triggers(db, &["DELETE FROM audit_log".to_string()]).await;
    without_triggers_insert(db, &rows, &statements).await;
}

/// Recomputes every hash from `from_seq` on, the way a forger without the key can.
fn rechain(rows: &mut [Row], from_seq: i64, mac: Mac<'_>) {
    let mut prev = audit::genesis();
    for r in rows.iter_mut() {
        if r.seq >= from_seq {
            r.prev_hash = prev.clone();
            r.hash = r.expected_hash(mac);
        }
        prev = r.hash.clone();
    }
}

fn guessed_key() -> Vec<u8> {
    let mut k = vec![0u8; 32];
    getrandom::fill(&mut k).unwrap();
    k
}

/// How many entries the trail page marks as not matching the chain.
async fn marked_on_the_trail(app: &TestApp) -> usize {
    let res = app.get("/audit").await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    let n = html.matches("class=\"chain-fails\"").count();
    if n > 0 {
        assert!(
            html.contains("改ざんされた可能性があります"),
            "the page warns"
        );
    }
    n
}

dual_test!(
    audit_verify_names_an_entry_edited_behind_the_apps_back,
    |app| async move {
        let n = some_entries(&app).await;
        assert_eq!(marked_on_the_trail(&app).await, 0);
        tamper(app.db(), Head::Keep, |rows| {
            rows[1].actor = "mallory".into()
        })
        .await;
        assert_eq!(
            audit::verify(app.db()).await.unwrap(),
            Verdict::Broken {
                seq: 2,
                reason: "content does not match its hash"
            }
        );
        assert_eq!(
            marked_on_the_trail(&app).await,
            1,
            "the edited entry is marked"
        );
        assert_eq!(app.count("audit_log").await, n);
    }
);

dual_test!(
    audit_verify_catches_an_edit_rechained_without_the_key,
    |app| async move {
        some_entries(&app).await;
        tamper(app.db(), Head::ToLast, |rows| {
            rows[1].actor = "mallory".into();
            rechain(rows, 2, Mac::Unkeyed);
        })
        .await;
        assert_eq!(
            audit::verify(app.db()).await.unwrap(),
            Verdict::Broken {
                seq: 2,
                reason: "content does not match its hash"
            }
        );
        assert!(
            marked_on_the_trail(&app).await >= 3,
            "every rechained entry is marked"
        );
    }
);

dual_test!(
    audit_verify_catches_an_edit_rechained_with_a_guessed_key,
    |app| async move {
        some_entries(&app).await;
        let key = guessed_key();
        tamper(app.db(), Head::ToLast, |rows| {
            rows[2].ip = "203.0.113.66".into();
            rechain(rows, 1, Mac::Keyed(&key));
        })
        .await;
        assert_eq!(
            audit::verify(app.db()).await.unwrap(),
            Verdict::Broken {
                seq: 1,
                reason: "content does not match its hash"
            }
        );
    }
);

dual_test!(audit_verify_catches_a_deleted_entry, |app| async move {
    some_entries(&app).await;
    tamper(app.db(), Head::Keep, |rows| {
        rows.remove(1);
    })
    .await;
    assert_eq!(
        audit::verify(app.db()).await.unwrap(),
        Verdict::Broken {
            seq: 2,
            reason: "missing entry"
        }
    );
});

dual_test!(
    audit_verify_catches_a_deleted_entry_with_the_rest_renumbered_and_rechained,
    |app| async move {
        let n = some_entries(&app).await;
        tamper(app.db(), Head::ToLast, |rows| {
            rows.remove(1);
            for (i, r) in rows.iter_mut().enumerate() {
                r.seq = i as i64 + 1;
            }
            rechain(rows, 2, Mac::Unkeyed);
        })
        .await;
        assert_eq!(app.count("audit_log").await, n - 1);
        assert_eq!(
            audit::verify(app.db()).await.unwrap(),
            Verdict::Broken {
                seq: 2,
                reason: "content does not match its hash"
            }
        );
    }
);

dual_test!(
    audit_verify_catches_a_forged_entry_chained_on_with_the_head_moved,
    |app| async move {
        let n = some_entries(&app).await;
        let key = guessed_key();
        tamper(app.db(), Head::ToLast, |rows| {
            let mut forged = rows.last().unwrap().clone();
            forged.seq = n + 1;
            forged.action = "user.role_changed".into();
            forged.actor = "admin@center.example.jp".into();
            forged.detail = r#"{"from":"org_member","to":"center_admin"}"#.into();
            forged.prev_hash = rows.last().unwrap().hash.clone();
            forged.hash = forged.expected_hash(Mac::Keyed(&key));
            rows.push(forged);
        })
        .await;
        assert_eq!(
            audit::verify(app.db()).await.unwrap(),
            Verdict::Broken {
                seq: n + 1,
                reason: "content does not match its hash"
            }
        );
        assert_eq!(
            marked_on_the_trail(&app).await,
            1,
            "the forged entry is marked"
        );
    }
);

dual_test!(
    audit_verify_with_anchors_catches_a_cut_off_tail_with_the_head_moved_back,
    |app| async move {
        let n = some_entries(&app).await;
        let anchor = audit::anchor(app.db()).await.unwrap();
        assert_eq!(anchor.seq, n);
        assert_eq!(
            audit::verify_against(app.db(), std::slice::from_ref(&anchor))
                .await
                .unwrap(),
            Verdict::Intact(n)
        );
        tamper(app.db(), Head::ToLast, |rows| rows.truncate(rows.len() - 2)).await;
        // Inside the database nothing shows: this is what anchors are for.
        assert_eq!(
            audit::verify(app.db()).await.unwrap(),
            Verdict::Intact(n - 2)
        );
        assert_eq!(
            audit::verify_against(app.db(), std::slice::from_ref(&anchor))
                .await
                .unwrap(),
            Verdict::Broken {
                seq: n - 1,
                reason: "entries cut off: the chain ends before an anchor kept outside the database"
            }
        );
        // The command line, given the anchor as it was logged (a JSON log line).
        let anchors = app.data_dir.join("anchors.log");
        std::fs::write(
            &anchors,
            format!(
                "{{\"level\":\"INFO\",\"fields\":{{\"message\":\"{}\"}}}}\n",
                anchor.line()
            ),
        )
        .unwrap();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_secportal"))
            .args(["audit", "verify", "--anchors"])
            .arg(&anchors)
            .env("SECPORTAL_DATA_DIR", &app.data_dir)
            .env("DATABASE_URL", &app.state.config.database_url)
            .env_remove("SECPORTAL_AUDIT_KEY")
            .env_remove("SECPORTAL_AUDIT_KEY_FILE")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{stdout} {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            stdout.contains(&format!("broken at entry {}", n - 1)) && stdout.contains("cut off"),
            "{stdout}"
        );
        // A rewritten entry under an anchor is named too.
        let a2 = Anchor {
            seq: 2,
            hash: "ab".repeat(32),
        };
        assert_eq!(
            audit::verify_against(app.db(), &[a2]).await.unwrap(),
            Verdict::Broken {
                seq: 2,
                reason: "hash differs from the anchor kept outside the database"
            }
        );
    }
);

dual_test!(
    the_database_refuses_an_entry_out_of_sequence_and_verify_names_one_slipped_in,
    |app| async move {
        let n = some_entries(&app).await;
        let rows = all_rows(app.db()).await;
        let last = rows.last().unwrap().clone();
        let key = guessed_key();
        let at = |seq: i64, prev: &str| {
            let mut r = last.clone();
            r.seq = seq;
            r.prev_hash = prev.to_string();
            r.hash = r.expected_hash(Mac::Keyed(&key));
            r
        };
        // With the triggers on, the database itself refuses: numbers 0 and below, a gap, a
        // number already used, and a next entry not linked to the last one.
        for r in [
            at(0, &audit::genesis()),
            at(-1, &last.hash),
            at(n + 2, &last.hash),
            at(n, &last.hash),
            at(n + 1, &audit::genesis()),
        ] {
            let res = on_db!(app.db(), p => sqlx::query(
                "INSERT INTO audit_log (seq, at, actor_id, actor, org_id, action, target, ip, detail, prev_hash, hash) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(r.seq).bind(r.at).bind(r.actor_id).bind(&r.actor).bind(r.org_id).bind(&r.action)
            .bind(&r.target).bind(&r.ip).bind(&r.detail).bind(&r.prev_hash).bind(&r.hash)
            .execute(p)
            .await
            .map(|_| ()));
            assert!(res.is_err(), "entry {} refused", r.seq);
        }
        // Nor can the head be moved back by hand.
        let res = on_db!(app.db(), p => sqlx::query("UPDATE audit_head SET seq = seq - 1").execute(p).await.map(|_| ()));
        assert!(res.is_err(), "head move refused");
        assert_eq!(app.count("audit_log").await, n);
        assert_eq!(audit::verify(app.db()).await.unwrap(), Verdict::Intact(n));
        // With the triggers off, an entry numbered 0 (and one below) slips in: verify names it,
        // and the trail marks it.
        insert_raw(app.db(), &at(0, &audit::genesis())).await;
        assert_eq!(
            audit::verify(app.db()).await.unwrap(),
            Verdict::Broken {
                seq: 0,
                reason: "entry outside the chain (numbered below 1)"
            }
        );
        insert_raw(app.db(), &at(-5, &audit::genesis())).await;
        assert_eq!(
            audit::verify(app.db()).await.unwrap(),
            Verdict::Broken {
                seq: -5,
                reason: "entry outside the chain (numbered below 1)"
            }
        );
        app.login(ADMIN, PASSWORD).await;
        assert_eq!(marked_on_the_trail(&app).await, 2);
        // The application goes on appending after them.
        assert_eq!(app.count("audit_log").await, n + 3);
    }
);

dual_test!(
    moving_the_switch_over_to_the_keyed_chain_does_not_pass_entries_off_as_unkeyed,
    |app| async move {
        let n = some_entries(&app).await;
        tamper(app.db(), Head::ToLast, |rows| {
            rows[1].actor = "mallory".into();
            rechain(rows, 1, Mac::Unkeyed);
        })
        .await;
        // Claim every entry was written before the key existed (the seal stays as it was).
        without_triggers(
            app.db(),
            &[format!(
                "UPDATE audit_head SET keyed_from = {} WHERE id = 1",
                n + 1
            )],
        )
        .await;
        assert_eq!(
            audit::verify(app.db()).await.unwrap(),
            Verdict::Broken {
                seq: n + 1,
                reason: "the switch-over to the keyed chain does not match its seal"
            }
        );
        // Nor with the seal removed.
        without_triggers(
            app.db(),
            &["UPDATE audit_head SET keyed_from = NULL, seal = NULL WHERE id = 1".to_string()],
        )
        .await;
        assert_eq!(
            audit::verify(app.db()).await.unwrap(),
            Verdict::Broken {
                seq: 1,
                reason: "content does not match its hash"
            }
        );
    }
);

dual_test!(
    the_audit_key_file_is_made_once_readable_by_its_owner_only,
    |app| async move {
        let path = app.data_dir.join("audit.key");
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.trim().len(), 64, "256 bits in hex");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // A second start on the same folder keeps the key, and the chain still verifies.
        some_entries(&app).await;
        let key = secportal::security::audit_key(
            &app.state.config,
            secportal::security::KeyFile::MustExist,
        )
        .await
        .unwrap();
        let db = Db::connect(&app.state.config.database_url)
            .await
            .unwrap()
            .with_audit_key(key);
        assert!(matches!(
            audit::verify(&db).await.unwrap(),
            Verdict::Intact(_)
        ));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
        // Another key does not verify it.
        let other = Db::connect(&app.state.config.database_url)
            .await
            .unwrap()
            .with_audit_key(audit::AuditKey::new(&guessed_key()));
        assert!(matches!(
            audit::verify(&other).await.unwrap(),
            Verdict::Broken { seq: 1, .. }
        ));
        // Without a key nothing is appended.
        let keyless = Db::connect(&app.state.config.database_url).await.unwrap();
        let mut tx = keyless.begin().await.unwrap();
        let entry = audit::Entry {
            actor_id: None,
            actor: "cli".into(),
            org_id: None,
            action: "user.created",
            target: "x".into(),
            ip: "-".into(),
            detail: serde_json::Value::Null,
        };
        assert!(audit::append(&mut tx, &entry).await.is_err());
    }
);

dual_test!(
    entries_written_before_the_key_stay_bound_to_the_chain_after_the_switch_over,
    |app| async move {
        let n = some_entries(&app).await;
        // A trail as an older version wrote it: unkeyed SHA-256, no switch-over recorded.
        tamper(app.db(), Head::ToLast, |rows| {
            rechain(rows, 1, Mac::Unkeyed)
        })
        .await;
        without_triggers(
            app.db(),
            &["UPDATE audit_head SET keyed_from = NULL, seal = NULL WHERE id = 1".to_string()],
        )
        .await;
        assert_eq!(
            audit::verify(app.db()).await.unwrap(),
            Verdict::Broken {
                seq: 1,
                reason: "content does not match its hash"
            },
            "unkeyed entries are never taken on trust"
        );
        // The first start with a key seals the switch-over after them (once).
        assert_eq!(audit::seal(app.db()).await.unwrap(), Some(n + 1));
        assert_eq!(audit::seal(app.db()).await.unwrap(), None);
        assert_eq!(audit::keyed_from(app.db()).await.unwrap(), Some(n + 1));
        assert_eq!(audit::verify(app.db()).await.unwrap(), Verdict::Intact(n));
        app.login(ADMIN, PASSWORD).await;
        assert_eq!(
            audit::verify(app.db()).await.unwrap(),
            Verdict::Intact(n + 1)
        );
        let html = app.get("/audit").await.text().await.unwrap();
        assert_eq!(html.matches("class=\"chain-unkeyed\"").count() as i64, n);
        assert_eq!(html.matches("class=\"chain-holds\"").count(), 1);
        // The switch-over cannot be moved through the application's own connection...
        let res = on_db!(app.db(), p => sqlx::query("UPDATE audit_head SET keyed_from = 1, seal = NULL").execute(p).await.map(|_| ()));
        assert!(res.is_err());
        // ...and rewriting an unkeyed entry afterwards shows: the seal binds their last hash.
        tamper(app.db(), Head::ToLast, |rows| {
            rows[0].actor = "mallory".into();
            rechain(rows, 1, Mac::Unkeyed);
        })
        .await;
        assert_eq!(
            audit::verify(app.db()).await.unwrap(),
            Verdict::Broken {
                seq: n + 1,
                reason: "the switch-over to the keyed chain does not match its seal"
            }
        );
    }
);

/// The rows of a page's first table body (the trail's, or home's activity list).
fn table_body(html: &str, after: &str) -> String {
    let from = html.find(after).unwrap_or(0);
    let rest = &html[from..];
    let start = rest
        .find("<tbody>")
        .unwrap_or_else(|| panic!("a table body after {after}:\n{html}"));
    let end = rest[start..].find("</tbody>").unwrap();
    rest[start..start + end].to_string()
}

/// Whether a text holds an id written out (8-4-4-4-12 hex).
fn has_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    (0..b.len().saturating_sub(35)).any(|i| {
        b[i..i + 36].iter().enumerate().all(|(j, c)| match j {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
    })
}

dual_test!(
    the_trail_and_recent_activity_read_in_words_without_keys_json_or_ids,
    |app| async move {
        use crate::gateway_logs::{CUSTOM, CUSTOM_MAPPING, map_and_recheck, page};
        let (org, _) = crate::followup::setup(&app).await;
        let office = crate::followup::add_location(&app, &org, "office", "", "本社").await;
        crate::structure::add_connection(&app, &org, &office, "gateway").await;
        let path = format!("/orgs/{org}/locations/{office}/gateway-logs");
        let res = crate::followup::upload_log(&app, &path, "gw.csv", CUSTOM.as_bytes()).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let file = crate::helpers::field_value(&page(&app, &path).await, "file").unwrap();
        map_and_recheck(&app, &path, &file, "0", &CUSTOM_MAPPING).await;

        let html = page(&app, "/audit").await;
        assert!(
            !html.contains("secportal audit"),
            "no command line for a clerk"
        );
        let rows = table_body(&html, "<table");
        crate::helpers::assert_says(
            &rows,
            &[
                "<td>接続の追加</td><td>本社のゲートウェイ接続</td>",
                "<td>事業所等の登録</td><td>本社</td>",
                "種類: 事業所",
                "<td>ファイル添付</td>",
                "ファイル: gw.csv",
                "<td>ログの列の対応づけ</td><td>本社</td>",
                "列の対応づけ: 1行目: 見出し行（記録ではない）、年月日時分秒: 列1、利用者コード: 列2、識別番号: 列3、業務コード: 列4、送受信区分: 列5",
                "<td>ログの再確認（列の対応づけ後）</td>",
                "結果: 完了",
            ],
        );
        for raw in [
            "gateway_log.mapped",
            "connection.added",
            "{\"",
            "\"kind\"",
            "trail.",
            "sha256",
        ] {
            assert!(!rows.contains(raw), "{raw} in\n{rows}");
        }
        assert!(!has_uuid(&rows), "{rows}");
        // The filter lists the actions by name; an organisation's, not the Center's own.
        assert!(!html.contains("value=\"catalogue.published\""));
        assert!(html.contains("<option value=\"gateway_log.mapped\">ログの列の対応づけ</option>"));
        // … in groups, so the kinds of action are found together.
        assert!(
            html.contains("<optgroup label=\"届出・ファイル・ログ\">"),
            "{html}"
        );
        // A period that ends before it starts is told, not answered with an empty list.
        let res = app.get("/audit?from=2026-12-05&to=2026-12-01").await;
        assert_eq!(res.status(), reqwest::StatusCode::UNPROCESSABLE_ENTITY);
        assert!(res.text().await.unwrap().contains("開始日が終了日より後"));
        let only = page(&app, "/audit?action=gateway_log.mapped").await;
        assert!(only.contains("<option value=\"gateway_log.mapped\" selected>"));
        assert!(!table_body(&only, "<table").contains("接続の追加"));

        let home = page(&app, "/home").await;
        let recent = table_body(&home, "最近の操作");
        assert!(
            recent.contains("<td>接続の追加</td><td>本社のゲートウェイ接続</td>"),
            "{recent}"
        );
        assert!(
            !has_uuid(&recent) && !recent.contains("connection."),
            "{recent}"
        );

        app.browser().to_english().await;
        let rows = table_body(&page(&app, "/audit").await, "<table");
        crate::helpers::assert_says(
            &rows,
            &[
                "Gateway connection at 本社",
                "File: gw.csv",
                "Column mapping: The first line: is a header (not a record), date and time: Column 1",
            ],
        );
        assert!(!has_uuid(&rows) && !rows.contains("trail."), "{rows}");
    }
);

/// Sets a user's name as the Center would see it.
async fn rename(app: &TestApp, email: &str, name: &str) {
    on_db!(app.db(), p => sqlx::query("UPDATE users SET display_name = $1 WHERE email = $2")
        .bind(name)
        .bind(email)
        .execute(p)
        .await
        .map(|_| ()))
    .unwrap();
}

dual_test!(
    the_trails_who_filter_finds_what_the_column_shows_and_no_center_member_for_an_organisation,
    |app| async move {
        use crate::gateway_logs::page;
        const KANRI: &str = "kanri@a.example.jp";
        app.add_user(ADMIN, "center_admin", None).await;
        app.add_user(KANRI, "org_admin", Some("AAAAA")).await;
        rename(&app, ADMIN, "審査 花子").await;
        rename(&app, KANRI, "山田 一郎").await;
        let org = app.org_of(KANRI).await.to_string();
        app.login(ADMIN, PASSWORD).await;
        crate::followup::add_location(&app, &org, "office", "", "本社").await;

        // The Center: the operator's commands by what the column calls them, people by name.
        let rows = table_body(&page(&app, "/audit?actor=管理コマンド").await, "<table");
        let n = rows.matches("<tr>").count();
        assert!(n >= 2, "both users were added by the command: {rows}");
        assert_eq!(rows.matches("<td>管理コマンド</td>").count(), n, "{rows}");
        let rows = table_body(&page(&app, "/audit?actor=審査花子").await, "<table");
        assert!(
            rows.contains("<td>事業所等の登録</td><td>本社</td>"),
            "{rows}"
        );
        assert!(!rows.contains("管理コマンド"), "{rows}");
        app.post("/logout", &[]).await;

        // The organisation: its own people by name, the Center as the column shows it, and
        // never a Center member by name or e-mail.
        app.login(KANRI, PASSWORD).await;
        crate::followup::add_location(&app, &org, "office", "", "大阪営業所").await;
        let rows = table_body(&page(&app, "/audit?actor=山田").await, "<table");
        assert!(
            rows.contains("大阪営業所") && !rows.contains("<td>本社</td>"),
            "{rows}"
        );
        let rows = table_body(&page(&app, "/audit?actor=センター").await, "<table");
        assert!(
            rows.contains("<td>NACCS センター</td><td>事業所等の登録</td><td>本社</td>"),
            "{rows}"
        );
        assert!(!rows.contains("大阪営業所"), "{rows}");
        for hidden in ["花子", "admin@center", "center.example"] {
            let html = page(&app, &format!("/audit?actor={hidden}")).await;
            assert!(html.contains("class=\"empty\""), "{hidden} finds nothing");
        }
    }
);

dual_test!(
    the_center_reads_the_trail_of_one_organisation_by_its_user_code,
    |app| async move {
        app.add_user("admin@center.example.jp", "center_admin", None)
            .await;
        app.add_user("kanri@a.example.jp", "org_admin", Some("AAAAA"))
            .await;
        app.add_user("kanri@b.example.jp", "org_admin", Some("BBBBB"))
            .await;
        app.login("admin@center.example.jp", PASSWORD).await;
        for email in ["kanri@a.example.jp", "kanri@b.example.jp"] {
            let org = app.org_of(email).await;
            app.post(
                &format!("/admin/orgs/{org}/second-factor"),
                &[("required", "true")],
            )
            .await;
        }
        let said = "組織の2段階認証の必須設定の変更";
        assert_eq!(
            app.html("/audit").await.matches(said).count(),
            3,
            "2 rows and the filter's option"
        );
        // One organisation's, by its code as typed: the Center's own action on it included.
        let a = app.html("/audit?org=aaaaa").await;
        assert_eq!(a.matches(said).count(), 2, "{a}");
        assert!(a.contains("value=\"aaaaa\""));
        // A code nobody holds, or no code at all, finds nothing.
        for q in ["CCCCC", "not-a-code"] {
            assert!(
                app.html(&format!("/audit?org={q}"))
                    .await
                    .contains("該当する記録はありません。")
            );
        }
        // The organisation's page links to it.
        let org = app.org_of("kanri@a.example.jp").await;
        assert!(
            app.html(&format!("/admin/orgs/{org}"))
                .await
                .contains("href=\"/audit?org=AAAAA\"")
        );
    }
);
