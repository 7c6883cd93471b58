//! Publishing catalogue revisions and comparing them.

use std::collections::HashMap;

use reqwest::StatusCode;

use crate::dual_test;
use crate::helpers::{PASSWORD, TestApp};

/// The edit form's fields as the page fills them.
async fn edit_fields(app: &TestApp) -> HashMap<String, String> {
    let html = app.get("/admin/catalogue/edit").await.text().await.unwrap();
    let mut fields = HashMap::new();
    for part in html.split("name=\"").skip(1) {
        let name: String = part.chars().take_while(|c| *c != '"').collect();
        if name == "lang" || name == "next" {
            continue;
        }
        let tail = &part[name.len()..];
        let tag_end = tail.find('>').unwrap_or(0);
        let tag = &tail[..tag_end];
        if name.contains(".form.") {
            if tag.contains("checked") {
                fields.insert(name, "on".to_string());
            }
        } else if let Some(v) = tag.split("value=\"").nth(1) {
            fields.insert(
                name,
                v.chars()
                    .take_while(|c| *c != '"')
                    .collect::<String>()
                    .replace("&amp;", "&"),
            );
        } else {
            // A textarea: its text up to </textarea>.
            let text = tail[tag_end + 1..]
                .split("</textarea>")
                .next()
                .unwrap_or("");
            fields.insert(
                name,
                text.replace("&amp;", "&")
                    .replace("&#x27;", "'")
                    .replace("&#39;", "'")
                    .replace("&#34;", "\"")
                    .replace("&#38;", "&")
                    .replace("&quot;", "\"")
                    .replace("&lt;", "<")
                    .replace("&gt;", ">"),
            );
        }
    }
    fields.remove("csrf_token");
    fields
}

/// Presses 「新しい版を公開」 (the preview's button) with these fields.
async fn publish(app: &TestApp, fields: &HashMap<String, String>) -> reqwest::Response {
    let mut pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    pairs.push(("action", "publish"));
    app.post("/admin/catalogue", &pairs).await
}

dual_test!(
    a_center_admin_publishes_a_revision_and_sees_what_changed,
    |app| async move {
        app.add_user("admin@center.example.jp", "center_admin", None)
            .await;
        app.login("admin@center.example.jp", PASSWORD).await;
        let mut fields = edit_fields(&app).await;
        assert_eq!(fields.get("base").map(String::as_str), Some("1"));
        assert_eq!(
            fields.get("administrator.title_ja").map(String::as_str),
            Some("管理責任者の設置")
        );

        // Bad input: nothing is published.
        for (k, v) in [
            ("administrator.title_ja", ""),
            ("router_ports.renewal_days", "0"),
            ("note", ""),
        ] {
            let mut bad = fields.clone();
            bad.insert(k.into(), v.into());
            bad.insert(
                "note".into(),
                if k == "note" {
                    String::new()
                } else {
                    "x".into()
                },
            );
            let res = publish(&app, &bad).await;
            assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{k}");
        }
        let mut no_forms = fields.clone();
        for f in ["peer_to_peer", "router", "gateway"] {
            no_forms.remove(&format!("gateway_logs.form.{f}"));
        }
        no_forms.insert("note".into(), "x".into());
        assert_eq!(
            publish(&app, &no_forms).await.status(),
            StatusCode::UNPROCESSABLE_ENTITY
        );
        let mut unchanged = fields.clone();
        unchanged.insert("note".into(), "no change".into());
        let res = publish(&app, &unchanged).await;
        let status = res.status();
        let body = res.text().await.unwrap();
        assert!(
            body.contains("変更がありません"),
            "{status} {}",
            body.split("<main")
                .nth(1)
                .unwrap_or("")
                .chars()
                .take(1500)
                .collect::<String>()
        );
        assert_eq!(app.count("catalogue_revisions").await, 1);

        fields.insert(
            "administrator.title_en".into(),
            "Responsible administrator (kanri sekininsha)".into(),
        );
        fields.insert("router_ports.renewal_days".into(), "365".into());
        fields.insert("note".into(), "英語名称の補足と更新周期の設定".into());
        // 「変更内容を確認」 first: what would change, by item name, and nothing published.
        let pairs: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .chain([("action", "preview")])
            .collect();
        let res = app.post("/admin/catalogue", &pairs).await;
        assert_eq!(res.status(), StatusCode::OK);
        let preview = res.text().await.unwrap();
        let shown = preview.split("id=\"preview\"").nth(1).unwrap_or_default();
        assert!(
            shown.contains("公開される変更（第2版）")
                && shown.contains("管理責任者の設置")
                && shown.contains("Responsible administrator (kanri sekininsha)")
                && shown.contains("value=\"publish\""),
            "{shown}"
        );
        assert!(
            !shown.contains("ウィルス対策"),
            "unchanged items are left out"
        );
        assert_eq!(app.count("catalogue_revisions").await, 1);
        let res = publish(&app, &fields).await;
        assert_eq!(
            res.status(),
            StatusCode::SEE_OTHER,
            "{}",
            res.text().await.unwrap()
        );
        assert_eq!(
            crate::helpers::location(&res),
            "/admin/catalogue/diff?from=1&to=2"
        );
        let diff = app
            .get("/admin/catalogue/diff?from=1&to=2")
            .await
            .text()
            .await
            .unwrap();
        assert!(
            diff.contains("Responsible administrator (kanri sekininsha)") && diff.contains("365")
        );
        // Items are named by their titles, not their internal keys.
        assert!(diff.contains("</code> 管理責任者の設置</h2>"), "{diff}");
        assert!(!diff.contains("</code> administrator</h2>"));
        // The history names who published each revision, the first as the portal's own.
        let history = app.get("/admin/catalogue").await.text().await.unwrap();
        assert!(
            history.contains("ポータル同梱の初版") && !history.contains("naccs-7.4.toml"),
            "{history}"
        );
        assert!(!history.contains("<td>admin@center.example.jp</td>"));
        assert!(
            !diff.contains("ウィルス対策"),
            "unchanged items are left out"
        );
        assert_eq!(app.audit_count("catalogue.published").await, 1);
        // Publishing from the old base again is refused: someone published meanwhile.
        assert_eq!(publish(&app, &fields).await.status(), StatusCode::CONFLICT);
        // Both revisions stay readable.
        assert!(
            app.get("/admin/catalogue?rev=1")
                .await
                .text()
                .await
                .unwrap()
                .contains("第1版")
        );
        assert_eq!(
            app.get("/admin/catalogue?rev=9").await.status(),
            StatusCode::NOT_FOUND
        );
    }
);

dual_test!(
    submissions_record_the_revision_they_answered,
    |app| async move {
        app.add_user("admin@center.example.jp", "center_admin", None)
            .await;
        app.add_user("kanri@a.example.jp", "org_admin", Some("AAAAA"))
            .await;
        let org = app.org_of("kanri@a.example.jp").await;
        app.login("admin@center.example.jp", PASSWORD).await;
        let res = app
            .post(
                &format!("/orgs/{org}/locations"),
                &[("kind", "office"), ("name", "本社"), ("address", "東京都")],
            )
            .await;
        let loc = crate::helpers::location(&res);
        let appoint = [
            ("name", "山田　太郎"),
            ("name_kana", "ヤマダ　タロウ"),
            ("department", "総務部"),
            ("phone", "03-1234-5678"),
            ("email", "yamada@a.example.jp"),
            ("effective_from", "2026-04-01"),
        ];
        app.post(&format!("{loc}/appointments"), &appoint).await;
        let mut fields = edit_fields(&app).await;
        fields.insert("administrator.renewal_days".into(), "730".into());
        fields.insert("note".into(), "二年ごとの再届出".into());
        assert_eq!(publish(&app, &fields).await.status(), StatusCode::SEE_OTHER);
        app.post(&format!("{loc}/appointments"), &appoint).await;
        let db = app.db();
        let revs: Vec<i64> = secportal::db::on_db!(db, p => sqlx::query_scalar("SELECT catalogue_revision FROM submissions ORDER BY created_at")
        .fetch_all(p)
        .await)
    .unwrap();
        assert_eq!(revs, vec![1, 2]);
    }
);

dual_test!(
    only_center_staff_see_the_catalogue_and_only_admins_publish,
    |app| async move {
        app.add_user("reviewer@center.example.jp", "reviewer", None)
            .await;
        app.add_user("kanri@a.example.jp", "org_admin", Some("AAAAA"))
            .await;
        app.login("reviewer@center.example.jp", PASSWORD).await;
        assert_eq!(app.get("/admin/catalogue").await.status(), StatusCode::OK);
        assert_eq!(
            app.get("/admin/catalogue/edit").await.status(),
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            app.post("/admin/catalogue", &[("base", "1"), ("note", "x")])
                .await
                .status(),
            StatusCode::FORBIDDEN
        );
        app.post("/logout", &[]).await;
        app.login("kanri@a.example.jp", PASSWORD).await;
        assert_eq!(
            app.get("/admin/catalogue").await.status(),
            StatusCode::FORBIDDEN
        );
        assert_eq!(app.count("catalogue_revisions").await, 1);
    }
);
