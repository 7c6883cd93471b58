//! Improvement instructions, requests, the inbox and scheduled mail.

use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};

use crate::dual_test;
use crate::helpers::{Browser, PASSWORD, TestApp, location, submission_in};

pub const PDF: &[u8] = b"%PDF-1.7\n% corrective action\n%%EOF\n";

/// Mail goes out after the commit, in the background: waits for it (up to 5 s).
async fn mailed(app: &TestApp, to: &str, path: &str) -> bool {
    for _ in 0..50 {
        if app.mail_link(to, path).is_some() {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    false
}

fn days_from_today(n: i64) -> String {
    (secportal::web::page::today() + chrono::Duration::days(n)).to_string()
}

/// Org admin of AAAAA (main browser, signed in), org admin of BBBBB and a reviewer.
pub async fn setup(app: &TestApp) -> (String, String) {
    app.add_user("kanri@a.example.jp", "org_admin", Some("AAAAA"))
        .await;
    app.add_user("kanri@b.example.jp", "org_admin", Some("BBBBB"))
        .await;
    app.add_user("reviewer@center.example.jp", "reviewer", None)
        .await;
    app.login("kanri@a.example.jp", PASSWORD).await;
    (
        app.org_of("kanri@a.example.jp").await.to_string(),
        app.org_of("kanri@b.example.jp").await.to_string(),
    )
}

pub async fn submit_configuration(app: &TestApp, org: &str) -> String {
    submit_configuration_with(app, org, PDF, "構成").await
}

/// Submits the system configuration with this diagram and note; answers its id.
pub async fn submit_configuration_with(
    app: &TestApp,
    org: &str,
    diagram: &[u8],
    note: &str,
) -> String {
    for (role, name, body) in [
        ("diagram", "構成図.pdf", diagram),
        ("equipment_list", "機器.csv", "機器,台数\nPC,3\n".as_bytes()),
    ] {
        let token = app.browser().token().await;
        let form = Form::new()
            .text("csrf_token", token)
            .text("role", role)
            .part("files", Part::bytes(body.to_vec()).file_name(name));
        let res = app
            .client
            .post(app.url(&format!("/orgs/{org}/system-configuration/files")))
            .header("origin", &app.base)
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
    }
    let res = app
        .post(
            &format!("/orgs/{org}/system-configuration"),
            &[("note", note), ("action", "submit")],
        )
        .await;
    // The 到達通知 goes out after the answer: wait until the outbox is empty, so a test that
    // counts mail afterwards counts only its own.
    assert_eq!(app.wait_unsent_mail((0, None)).await, (0, None));
    submission_in(&res)
}

/// An organisation with its system configuration sent, and the Center's reviewer signed in:
/// (organisation, submission, reviewer).
pub async fn sent_with_reviewer(app: &TestApp) -> (String, String, Browser<'_>) {
    let (org, _) = setup(app).await;
    let sub = submit_configuration(app, &org).await;
    let reviewer = app.new_browser();
    reviewer.login("reviewer@center.example.jp", PASSWORD).await;
    (org, sub, reviewer)
}

async fn answer(
    app: &TestApp,
    path: &str,
    version: &str,
    body: &str,
    file: Option<(&str, &[u8])>,
) -> reqwest::Response {
    let token = app.browser().token().await;
    let mut form = Form::new()
        .text("csrf_token", token)
        .text("version", version.to_string())
        .text("body", body.to_string());
    if let Some((name, bytes)) = file {
        form = form.part(
            "files",
            Part::bytes(bytes.to_vec()).file_name(name.to_string()),
        );
    }
    app.client
        .post(app.url(&format!("{path}/answer")))
        .header("origin", &app.base)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

async fn version_of(app: &TestApp, id: &str) -> String {
    let db = app.db();
    let id = uuid::Uuid::parse_str(id).unwrap();
    let v: i64 = secportal::db::on_db!(db, p => sqlx::query_scalar("SELECT version FROM instructions WHERE id = $1").bind(id).fetch_one(p).await).unwrap();
    v.to_string()
}

async fn state_of(app: &TestApp, id: &str) -> (String, String) {
    let db = app.db();
    let id = uuid::Uuid::parse_str(id).unwrap();
    let (s, d): (String, chrono::NaiveDate) = secportal::db::on_db!(db, p => sqlx::query_as("SELECT state, due_date FROM instructions WHERE id = $1").bind(id).fetch_one(p).await).unwrap();
    (s, d.to_string())
}

dual_test!(
    an_open_instruction_shows_on_the_review_of_the_next_version_of_its_report,
    |app| async move {
        let (org, sub, reviewer) = sent_with_reviewer(&app).await;
        let res = reviewer
            .post(
                &format!("/orgs/{org}/instructions"),
                &[
                    ("submission_id", sub.as_str()),
                    ("item_key", "system_configuration"),
                    ("problem", "構成図にファイアウォールがない"),
                    ("required_change", "構成図を更新すること。"),
                    ("due_date", &days_from_today(14)),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let instruction = location(&res);
        // On the report it was issued on: listed, without a word about another version.
        let first = reviewer.html(&format!("/review/{sub}")).await;
        assert!(
            first.contains(&format!("href=\"{instruction}\"")),
            "{first}"
        );
        assert!(!first.contains("以前の版（受付番号"), "{first}");
        // The organisation sends a new version: its review lists the open instruction, saying
        // it was issued on the earlier one, so the reviewer can tell whether this answers it.
        // One aimed at an office of the organisation-wide report is its too (seen missing).
        let office = add_location(&app, &org, "office", "", "横浜営業所").await;
        let res = reviewer
            .post(
                &format!("/orgs/{org}/instructions"),
                &[
                    ("submission_id", sub.as_str()),
                    ("item_key", "system_configuration"),
                    ("location_id", office.as_str()),
                    ("problem", "横浜営業所の機器が構成図にない"),
                    ("required_change", "横浜営業所の機器を追記すること。"),
                    ("due_date", &days_from_today(14)),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let at_office = location(&res);
        let next = submit_configuration_with(&app, &org, PDF, "ファイアウォールを追記").await;
        let receipt = crate::helpers::receipt_of(&app, &sub).await;
        let html = reviewer.html(&format!("/review/{next}")).await;
        assert!(
            html.contains(&format!("href=\"{instruction}\""))
                && html.contains(&format!("href=\"{at_office}\""))
                && html.contains(&format!("以前の版（受付番号 {receipt}）への指示です。")),
            "{html}"
        );
        // Closed, it no longer follows the item's later versions.
        secportal::db::on_db!(app.db(), p => sqlx::query("UPDATE instructions SET state = 'closed'")
            .execute(p)
            .await
            .map(|_| ()))
        .unwrap();
        let html = reviewer.html(&format!("/review/{next}")).await;
        assert!(!html.contains(&format!("href=\"{instruction}\"")), "{html}");
        assert!(!html.contains(&format!("href=\"{at_office}\"")), "{html}");
    }
);

dual_test!(
    an_instruction_is_answered_with_evidence_extended_closed_and_reopened_with_its_history,
    |app| async move {
        let (org, org_b) = setup(&app).await;
        let sub = submit_configuration(&app, &org).await;
        let reviewer = app.new_browser();
        reviewer.login("reviewer@center.example.jp", PASSWORD).await;
        let page = reviewer
            .get(&format!("/orgs/{org}/followup?submission={sub}"))
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("改善措置を指示する") && page.contains("SR-"));
        let issue = |due: String, problem: &'static str| {
            let (reviewer, org, sub) = (&reviewer, org.clone(), sub.clone());
            async move {
                reviewer
                    .post(
                        &format!("/orgs/{org}/instructions"),
                        &[
                            ("submission_id", sub.as_str()),
                            ("item_key", "system_configuration"),
                            ("problem", problem),
                            (
                                "required_change",
                                "ルータの WAN ポートを無効化し、構成図を更新すること。",
                            ),
                            ("due_date", due.as_str()),
                        ],
                    )
                    .await
            }
        };
        // A due date in the past, an empty "what is wrong": refused, nothing issued.
        let res = issue(days_from_today(-1), "構成図にファイアウォールがない").await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            res.text()
                .await
                .unwrap()
                .contains("期限に過去の日付は指定できません")
        );
        let res = issue(days_from_today(14), "  ").await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(app.count("instructions").await, 0);
        // An organisation cannot issue instructions.
        assert_eq!(
            app.post(
                &format!("/orgs/{org}/instructions"),
                &[
                    ("item_key", "antivirus"),
                    ("problem", "x"),
                    ("required_change", "y"),
                    ("due_date", &days_from_today(3))
                ]
            )
            .await
            .status(),
            StatusCode::FORBIDDEN
        );
        let res = issue(days_from_today(14), "構成図にファイアウォールがない").await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let path = location(&res);
        let id = path.rsplit('/').next().unwrap().to_string();
        assert_eq!(app.audit_count("instruction.issued").await, 1);
        assert!(
            mailed(&app, "kanri@a.example.jp", &path).await,
            "the organisation is mailed the instruction"
        );
        let text = app.mail_text("kanri@a.example.jp", &path);
        assert!(
            text.contains("指摘事項（不十分な点）：")
                && text.contains("構成図にファイアウォールがない")
                && text.contains("求める改善内容：")
                && text.contains("ルータの WAN ポートを無効化し、構成図を更新すること。"),
            "the mail says what the instruction asks: {text}"
        );
        // The organisation sees it on its checklist and in its inbox.
        let home = app.get("/home").await.text().await.unwrap();
        assert!(home.contains("改善措置対応中") && home.contains(&path));
        let inbox = app.get("/inbox").await.text().await.unwrap();
        assert!(inbox.contains("改善措置の指示"));
        // The organisation reads who issued it as the Center, as its trail and receipts do.
        let page = app.get(&path).await.text().await.unwrap();
        assert!(
            page.contains("<dt>指示者</dt><dd>NACCS センター（"),
            "{page}"
        );

        // Another organisation: 404 on the page, the answer and the extension forms.
        let b = app.new_browser();
        b.login("kanri@b.example.jp", PASSWORD).await;
        assert_eq!(b.get(&path).await.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            b.get(&format!("/orgs/{org_b}/instructions/{id}"))
                .await
                .status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            b.post(
                &format!("/orgs/{org_b}/instructions/{id}/extension"),
                &[
                    ("version", "1"),
                    ("until", &days_from_today(30)),
                    ("reason", "x")
                ]
            )
            .await
            .status(),
            StatusCode::NOT_FOUND
        );
        let token = b.token().await;
        let res = b
            .client
            .post(app.url(&format!("/orgs/{org_b}/instructions/{id}/answer")))
            .header("origin", &app.base)
            .multipart(
                Form::new()
                    .text("csrf_token", token)
                    .text("version", "1")
                    .text("body", "横取り"),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        // Reviewers do not answer for the organisation.
        assert_eq!(
            reviewer
                .post(
                    &format!("/orgs/{org}/instructions/{id}/extension"),
                    &[
                        ("version", "1"),
                        ("until", &days_from_today(30)),
                        ("reason", "x")
                    ]
                )
                .await
                .status(),
            StatusCode::FORBIDDEN
        );

        // Extension: not before the current due date; then asked, then granted.
        let res = app
            .post(
                &format!("{path}/extension"),
                &[
                    ("version", "1"),
                    ("until", &days_from_today(10)),
                    ("reason", "機器の納期"),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let res = app
            .post(
                &format!("{path}/extension"),
                &[
                    ("version", "1"),
                    ("until", &days_from_today(30)),
                    ("reason", "機器の納期が遅れるため"),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let home = reviewer.get("/home").await.text().await.unwrap();
        assert!(
            home.contains("<strong>1</strong>期限延長の申請")
                && home.contains("<strong>0</strong>是正報告の確認待ち"),
            "the Center's home counts the extension request"
        );
        let res = reviewer
            .post(
                &format!("{path}/decide"),
                &[
                    ("version", "2"),
                    ("action", "grant"),
                    ("date", &days_from_today(-2)),
                ],
            )
            .await;
        assert_eq!(
            res.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "a past date is refused"
        );
        // Refusing says why: without a reason it is not done, and the error is under the
        // extension's own box.
        let res = reviewer
            .post(
                &format!("{path}/decide"),
                &[("version", "2"), ("action", "refuse"), ("reason", " ")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = res.text().await.unwrap();
        assert!(
            html.contains("id=\"f-x-reason-error\"")
                && html.contains("延長を認めない理由を入力してください"),
            "{html}"
        );
        assert!(!html.contains("id=\"f-d-reason-error\""));
        let res = reviewer
            .post(
                &format!("{path}/decide"),
                &[
                    ("version", "2"),
                    ("action", "grant"),
                    ("date", &days_from_today(30)),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            state_of(&app, &id).await,
            ("open".into(), days_from_today(30))
        );
        // The organisation's mail names the item.
        let mail = app
            .wait_mail_text("kanri@a.example.jp", "期限延長が認められました")
            .await;
        assert!(
            mail.contains("利用者側のシステム構成の提出」の改善措置の期限延長")
                && !mail.contains("\r\n\r\n\r\n"),
            "{mail}"
        );

        // The corrective-action report, with an evidence file through the file store.
        let res = answer(&app, &path, "1", "更新しました", None).await;
        let status = res.status();
        assert_eq!(
            status,
            StatusCode::CONFLICT,
            "a stale version is told: {}",
            res.text().await.unwrap()
        );
        let v = version_of(&app, &id).await;
        let res = answer(&app, &path, &v, "", None).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let res = answer(&app, &path, &v, "悪い", Some(("x.exe", b"MZ\x90\x00"))).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(app.count("instruction_files").await, 0);
        let res = answer(
            &app,
            &path,
            &v,
            "WAN ポートを無効化し、構成図を更新しました。",
            Some(("是正報告.pdf", PDF)),
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(app.count("instruction_files").await, 1);
        assert_eq!(state_of(&app, &id).await.0, "answered");
        let home = reviewer.get("/home").await.text().await.unwrap();
        assert!(
            home.contains("<strong>1</strong>是正報告の確認待ち")
                && home.contains("<strong>0</strong>期限延長の申請"),
            "the report waits for the Center"
        );
        let page = reviewer.get(&path).await.text().await.unwrap();
        assert!(page.contains("是正報告.pdf") && page.contains("WAN ポートを無効化"));
        let file_path = page
            .split("/instruction-files/")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_string();
        let res = reviewer
            .get(&format!("/orgs/{org}/instruction-files/{file_path}"))
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        assert!(
            res.headers()["content-disposition"]
                .to_str()
                .unwrap()
                .starts_with("attachment")
        );
        assert_eq!(res.bytes().await.unwrap().as_ref(), PDF);
        assert_eq!(
            b.get(&format!("/orgs/{org_b}/instruction-files/{file_path}"))
                .await
                .status(),
            StatusCode::NOT_FOUND
        );

        // Close; a second reviewer's stale page is told and changes nothing; reopen needs a reason.
        let v = version_of(&app, &id).await;
        let res = reviewer
            .post(
                &format!("{path}/decide"),
                &[("version", v.as_str()), ("action", "close")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        // Closed, it leaves the Center's open list for the recently closed one, to be found
        // again (and reopened).
        let list = reviewer.html("/review/followup").await;
        let closed_at = list
            .find("<h2>最近完了した改善措置</h2>")
            .expect("the closed list");
        assert!(
            list[closed_at..].contains(&format!("/instructions/{id}\"")),
            "{list}"
        );
        assert!(
            !list[..closed_at].contains(&format!("/instructions/{id}\"")),
            "{list}"
        );
        let res = reviewer
            .post(
                &format!("{path}/decide"),
                &[("version", v.as_str()), ("action", "close")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::CONFLICT);
        assert!(
            res.text()
                .await
                .unwrap()
                .contains("他の人が先に更新しました")
        );
        let v = version_of(&app, &id).await;
        let res = reviewer
            .post(
                &format!("{path}/decide"),
                &[
                    ("version", v.as_str()),
                    ("action", "reopen"),
                    ("reason", ""),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(state_of(&app, &id).await.0, "closed");
        // Its due date has passed by now: reopened, it needs a new one.
        let past = chrono::NaiveDate::from_ymd_opt(2020, 1, 31).unwrap();
        let uid = uuid::Uuid::parse_str(&id).unwrap();
        secportal::db::on_db!(app.db(), p => sqlx::query("UPDATE instructions SET due_date = $1 WHERE id = $2")
            .bind(past)
            .bind(uid)
            .execute(p)
            .await
            .map(|_| ()))
        .unwrap();
        let reason = ("reason", "構成図に VPN 装置が記載されていない");
        let res = reviewer
            .post(
                &format!("{path}/decide"),
                &[("version", v.as_str()), ("action", "reopen"), reason],
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            res.text()
                .await
                .unwrap()
                .contains("これまでの期限は過ぎています。再指示には新しい期限を入力してください。")
        );
        assert_eq!(state_of(&app, &id).await.0, "closed");
        let new_due = (chrono::Utc::now().date_naive() + chrono::Days::new(30)).to_string();
        let res = reviewer
            .post(
                &format!("{path}/decide"),
                &[
                    ("version", v.as_str()),
                    ("action", "reopen"),
                    reason,
                    ("date", new_due.as_str()),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(state_of(&app, &id).await.0, "open");
        // Full history, each step audited.
        assert_eq!(app.count("instruction_events").await, 6);
        for action in [
            "instruction.extension_requested",
            "instruction.extension_granted",
            "instruction.answered",
            "instruction.closed",
            "instruction.reopened",
        ] {
            assert_eq!(app.audit_count(action).await, 1, "{action}");
        }
        let page = app.get(&path).await.text().await.unwrap();
        for step in [
            "指示",
            "延長申請",
            "延長承認",
            "是正措置の報告",
            "完了",
            "再指示",
        ] {
            assert!(page.contains(step), "{step}");
        }
        // Past the due date the checklist says overdue.
        let db = app.db();
        secportal::db::on_db!(db, p => sqlx::query("UPDATE instructions SET due_date = $1").bind(secportal::web::page::today() - chrono::Duration::days(1)).execute(p).await.map(|_| ())).unwrap();
        let home = app.get("/home").await.text().await.unwrap();
        assert!(home.contains("期限超過"));
        let list = reviewer.get("/review/followup").await.text().await.unwrap();
        assert!(list.contains("AAAAA") && list.contains("期限超過"));
    }
);

dual_test!(
    requests_appear_on_the_checklist_and_the_submission_that_answers_them_is_linked,
    |app| async move {
        let (org, _) = setup(&app).await;
        let reviewer = app.new_browser();
        reviewer.login("reviewer@center.example.jp", PASSWORD).await;
        let req = |fields: Vec<(&'static str, String)>| {
            let (reviewer, org) = (&reviewer, org.clone());
            async move {
                let f: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
                reviewer.post(&format!("/orgs/{org}/requests"), &f).await
            }
        };
        // Gateway logs need the period; no due date in the past; only items 5 and 6.
        let res = req(vec![
            ("item_key", "gateway_logs".into()),
            ("due_date", days_from_today(7)),
        ])
        .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let res = req(vec![
            ("item_key", "gateway_logs".into()),
            ("period_from", "2026-10-31".into()),
            ("period_to", "2026-10-01".into()),
            ("due_date", days_from_today(7)),
        ])
        .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let res = req(vec![
            ("item_key", "inhouse_measures".into()),
            ("due_date", days_from_today(-1)),
        ])
        .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let res = req(vec![
            ("item_key", "antivirus".into()),
            ("due_date", days_from_today(7)),
        ])
        .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(app.count("requests").await, 0);
        let res = req(vec![
            ("item_key", "inhouse_measures".into()),
            ("due_date", days_from_today(7)),
            ("note", "サーバの多要素認証の状況を含めてください".into()),
        ])
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        // Its mail says what is asked, and no empty period line.
        assert!(mailed(&app, "kanri@a.example.jp", &format!("/orgs/{org}/followup")).await);
        let mail = app
            .wait_mail_text("kanri@a.example.jp", "提出依頼がありました")
            .await;
        assert!(
            mail.contains("依頼内容：サーバの多要素認証の状況を含めてください")
                && !mail.contains("対象期間：")
                && !mail.contains("Period:"),
            "{mail}"
        );
        let res = req(vec![
            ("item_key", "gateway_logs".into()),
            ("period_from", "2026-10-01".into()),
            ("period_to", "2026-10-31".into()),
            ("due_date", days_from_today(7)),
        ])
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(app.audit_count("request.issued").await, 2);
        assert!(mailed(&app, "kanri@a.example.jp", &format!("/orgs/{org}/followup")).await);
        // Logs asked of every site say so, in the mail and on the list.
        let mail = app
            .wait_mail_text("kanri@a.example.jp", "対象期間：2026-10-01")
            .await;
        assert!(
            mail.contains("対象の設置場所：すべての設置場所") && mail.contains("Site: All sites"),
            "{mail}"
        );
        assert!(
            app.html(&format!("/orgs/{org}/followup"))
                .await
                .contains("<small>すべての設置場所</small>")
        );
        let home = app.get("/home").await.text().await.unwrap();
        assert!(
            home.contains("提出依頼あり"),
            "the checklist shows the request"
        );
        let page = app
            .get(&format!("/orgs/{org}/followup"))
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("2026-10-01 – 2026-10-31") && page.contains("多要素認証"));
        // The organisation submits item 5: the request is answered by that submission.
        let mut fields: Vec<(String, String)> = vec![("action".into(), "submit".into())];
        for area in ["servers", "network", "clients"] {
            for m in [
                "subject_auth",
                "access_control",
                "encryption",
                "patches",
                "user_auth",
            ] {
                fields.push((format!("m_{area}_{m}_status"), "implemented".into()));
                fields.push((format!("m_{area}_{m}_desc"), "実施済み".into()));
            }
        }
        let refs: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let res = app
            .post(&format!("/orgs/{org}/inhouse-measures"), &refs)
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let db = app.db();
        let (state, linked): (String, Option<uuid::Uuid>) = secportal::db::on_db!(db, p => sqlx::query_as("SELECT state, submission_id FROM requests WHERE item_key = 'inhouse_measures'").fetch_one(p).await).unwrap();
        assert_eq!(state, "answered");
        assert!(linked.is_some());
        let page = reviewer.get("/review/followup").await.text().await.unwrap();
        let (open, answered) = page.split_once("id=\"answered\"").unwrap();
        assert!(
            !open.contains("サーバの多要素認証"),
            "answered requests leave the open list"
        );
        // … for the list of those answered last, with the answer's receipt number.
        let receipt: String = secportal::db::on_db!(db, p => sqlx::query_scalar("SELECT s.receipt_no FROM requests r JOIN submissions s ON s.id = r.submission_id").fetch_one(p).await).unwrap();
        assert!(answered.contains("サーバの多要素認証") && answered.contains(&receipt));
        // … and when it was answered.
        let today = secportal::web::page::today().to_string();
        assert!(
            answered.contains(&format!("<small>{today} ")) && answered.contains(" 回答</small>"),
            "{answered}"
        );
        // Returned and revised: the list follows the answer to its newest version and says
        // where its review stands.
        let first = linked.unwrap();
        let res = reviewer
            .post(
                &format!("/review/{first}/decide"),
                &[("decision", "returned"), ("reason", "計画を添えてください")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let res = app
            .post(&format!("/orgs/{org}/submissions/{first}/revise"), &[])
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let res = app
            .post(&format!("/orgs/{org}/inhouse-measures"), &refs)
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let (second, again): (uuid::Uuid, String) = secportal::db::on_db!(db, p => sqlx::query_as("SELECT id, receipt_no FROM submissions WHERE kind = 'inhouse_measures' AND version = 2").fetch_one(p).await).unwrap();
        let res = reviewer
            .post(
                &format!("/review/{second}/decide"),
                &[("decision", "accepted")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let page = reviewer.get("/review/followup").await.text().await.unwrap();
        let (_, answered) = page.split_once("id=\"answered\"").unwrap();
        assert!(
            answered.contains(&format!(
                "<a href=\"/review/{second}\"><code>{again}</code></a>"
            )) && answered.contains("<span class=\"status accepted\">受理</span>")
                && !answered.contains(&receipt),
            "{answered}"
        );
        let org_page = app.html(&format!("/orgs/{org}/followup")).await;
        assert!(
            org_page.contains(&format!(
                "/submissions/{second}/receipt\"><code>{again}</code>"
            )) && org_page.contains("<span class=\"status accepted\">受理</span>"),
            "{org_page}"
        );
        // An unanswered request goes overdue.
        secportal::db::on_db!(db, p => sqlx::query("UPDATE requests SET due_date = $1 WHERE state = 'open'").bind(secportal::web::page::today() - chrono::Duration::days(1)).execute(p).await.map(|_| ())).unwrap();
        let page = app
            .get(&format!("/orgs/{org}/followup"))
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("期限超過"));
        // The Center withdraws it: once; another organisation's path: 404; answered: 409.
        let open: uuid::Uuid = secportal::db::on_db!(db, p => sqlx::query_scalar("SELECT id FROM requests WHERE state = 'open'").fetch_one(p).await).unwrap();
        let other = app.org_of("kanri@b.example.jp").await.to_string();
        assert_eq!(
            reviewer
                .post(&format!("/orgs/{other}/requests/{open}/withdraw"), &[])
                .await
                .status(),
            StatusCode::NOT_FOUND
        );
        let path = format!("/orgs/{org}/requests/{open}/withdraw");
        // The page offers a reason under the request's link; the reason goes with the notice.
        let page = reviewer.html(&format!("/orgs/{org}/followup")).await;
        assert!(
            page.contains("取り下げの理由（任意・組織に伝わります）") && page.contains(&path),
            "{page}"
        );
        let reason = "ログの対象期間を誤って指定したため、改めて依頼します。";
        assert_eq!(
            reviewer.post(&path, &[("reason", reason)]).await.status(),
            StatusCode::SEE_OTHER
        );
        assert_eq!(
            reviewer.post(&path, &[]).await.status(),
            StatusCode::CONFLICT
        );
        assert_eq!(app.audit_count("request.withdrawn").await, 1);
        // The organisation is told, once.
        let mail = app
            .wait_mail_text("kanri@a.example.jp", "提出依頼を取り下げました")
            .await;
        assert!(
            mail.contains("この依頼への提出は不要です")
                && mail.contains(&format!("取り下げの理由：{reason}")),
            "{mail}"
        );
        assert_eq!(
            app.audit_details("request.withdrawn").await[0]["reason"],
            reason
        );
        let inbox = app.get("/inbox").await.text().await.unwrap();
        assert_eq!(inbox.matches("提出依頼の取り下げ").count(), 1, "{inbox}");
        let home = app.get("/home").await.text().await.unwrap();
        assert!(
            !home.contains("期限超過"),
            "a withdrawn request no longer counts"
        );
    }
);

dual_test!(
    decisions_reach_the_inbox_and_mail_can_be_turned_off_per_kind,
    |app| async move {
        let (org, _) = setup(&app).await;
        let sub = submit_configuration(&app, &org).await;
        // The 到達通知 goes to every user of the organisation; the sender's is filed read
        // (they have the receipt in front of them), so only the decision is counted below.
        let read: Vec<bool> = secportal::db::on_db!(app.db(), p => sqlx::query_scalar(
            "SELECT n.read_at IS NOT NULL FROM notifications n JOIN users u ON u.id = n.user_id \
             WHERE n.kind = 'received' AND u.email = $1")
            .bind("kanri@a.example.jp")
            .fetch_all(p)
            .await)
        .unwrap();
        assert_eq!(read, vec![true], "the sender's 到達通知 is filed read");
        // The org admin turns e-mail off for decisions only.
        let mut prefs: Vec<(String, String)> = secportal::app::notify::KINDS
            .iter()
            .filter(|k| **k != "decided")
            .map(|k| (format!("mail_{k}"), "on".to_string()))
            .collect();
        prefs.push(("x".into(), "y".into()));
        let refs: Vec<(&str, &str)> = prefs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            app.post("/inbox/preferences", &refs).await.status(),
            StatusCode::SEE_OTHER
        );
        let before = app.mail_count();
        let reviewer = app.new_browser();
        reviewer.login("reviewer@center.example.jp", PASSWORD).await;
        let res = reviewer
            .post(
                &format!("/review/{sub}/decide"),
                &[("decision", "returned"), ("reason", "構成図が古い")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert_eq!(app.mail_count(), before, "no mail: turned off");
        let inbox = app.get("/inbox").await.text().await.unwrap();
        assert!(inbox.contains("差し戻されました"), "the inbox still has it");
        assert!(
            inbox.contains("<span class=\"badge unread\">1</span>"),
            "the navigation counts the unread notice"
        );
        let id = inbox
            .split("action=\"/inbox/")
            .skip(1)
            .filter_map(|s| s.split('"').next())
            .find(|s| uuid::Uuid::parse_str(s).is_ok())
            .unwrap()
            .to_string();
        let res = app.post(&format!("/inbox/{id}"), &[]).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert!(location(&res).ends_with("/receipt"));
        let db = app.db();
        let unread: i64 = secportal::db::on_db!(db, p => sqlx::query_scalar("SELECT COUNT(*) FROM notifications WHERE read_at IS NULL AND kind = 'decided'").fetch_one(p).await).unwrap();
        assert_eq!(unread, 0);
        let home = app.get("/home").await.text().await.unwrap();
        assert!(!home.contains("badge unread"), "read: no count");
        // Someone else's notice: 404.
        let b = app.new_browser();
        b.login("kanri@b.example.jp", PASSWORD).await;
        assert_eq!(
            b.post(&format!("/inbox/{id}"), &[]).await.status(),
            StatusCode::NOT_FOUND
        );
    }
);

dual_test!(
    mail_that_could_not_be_sent_is_sent_again_once,
    |app| async move {
        let (org, _) = setup(&app).await;
        let sub = submit_configuration(&app, &org).await;
        // The mail server is down: here the mail folder cannot be written.
        let dir = app.data_dir.join("mail");
        let aside = app.data_dir.join("mail.aside");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::rename(&dir, &aside).unwrap();
        std::fs::write(&dir, b"not a folder").unwrap();
        let reviewer = app.new_browser();
        reviewer.login("reviewer@center.example.jp", PASSWORD).await;
        let res = reviewer
            .post(
                &format!("/review/{sub}/decide"),
                &[("decision", "returned"), ("reason", "構成図が古い")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "the decision stands");
        assert_eq!(
            app.wait_unsent_mail((1, Some(1))).await,
            (1, Some(1)),
            "kept in the outbox after one failed try"
        );
        // The server is back; the next scheduler tick sends it, once.
        std::fs::remove_file(&dir).unwrap();
        std::fs::rename(&aside, &dir).unwrap();
        let now = secportal::db::now();
        assert_eq!(
            secportal::app::notify::retry_mail(&app.state, now)
                .await
                .unwrap(),
            0,
            "too fresh to retry"
        );
        let later = now + chrono::Duration::minutes(3);
        assert_eq!(
            secportal::app::notify::retry_mail(&app.state, later)
                .await
                .unwrap(),
            1
        );
        let text = app.mail_text("kanri@a.example.jp", "構成図が古い");
        assert!(
            text.contains(&format!("/orgs/{org}/submissions/{sub}/receipt")),
            "the same mail, link included: {text}"
        );
        assert_eq!(
            secportal::app::notify::retry_mail(&app.state, later)
                .await
                .unwrap(),
            0
        );
        assert_eq!(app.unsent_mail().await.0, 0);
    }
);

dual_test!(
    reminders_and_the_daily_digest_go_out_once_even_when_two_schedulers_race,
    |app| async move {
        let (org, _) = setup(&app).await;
        submit_configuration(&app, &org).await;
        let reviewer = app.new_browser();
        reviewer.login("reviewer@center.example.jp", PASSWORD).await;
        for (item, days) in [
            ("antivirus", 7),
            ("system_configuration", 1),
            ("id_management", 20),
        ] {
            let res = reviewer
                .post(
                    &format!("/orgs/{org}/instructions"),
                    &[
                        ("item_key", item),
                        ("problem", "不足"),
                        ("required_change", "改善"),
                        ("due_date", &days_from_today(days)),
                    ],
                )
                .await;
            assert_eq!(res.status(), StatusCode::SEE_OTHER);
        }
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let before = app.mail_count();
        // Tomorrow 09:00 JST the digest of today's submissions goes out; run at 09:00 JST today
        // the reminders for the items due in 7 days and in 1 day.
        let today = secportal::web::page::today();
        let at = |d: chrono::NaiveDate| {
            chrono::TimeZone::from_utc_datetime(&chrono::Utc, &d.and_hms_opt(0, 0, 0).unwrap())
        };
        let nine_jst = at(today);
        let (a, b) = tokio::join!(
            secportal::app::notify::run_once(&app.state, nine_jst),
            secportal::app::notify::run_once(&app.state, nine_jst)
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(
            a.org_digests + b.org_digests,
            1,
            "one reminder digest, not one per node"
        );
        let after = app.mail_count();
        assert_eq!(after - before, 1, "one mail to the one org user");
        let mail = std::fs::read_dir(app.data_dir.join("mail"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .max()
            .unwrap();
        let text = std::fs::read_to_string(mail).unwrap();
        assert!(text.contains("Due dates (2)"), "{text}");
        assert!(
            text.contains("・Improvement instruction 7.4.1(3) Antivirus")
                && text.contains("・改善措置の指示 7.4.1(3) ウィルス対策"),
            "each language lists the items in its own words: {text}"
        );
        assert!(
            text.contains("（あと 7 日）")
                && text.contains("（あと 1 日）")
                && text.contains("(days left: 7)")
                && text.contains("(1 day left)"),
            "each item says how long is left: {text}"
        );
        // Again the same day: nothing new.
        let again =
            secportal::app::notify::run_once(&app.state, nine_jst + chrono::Duration::hours(3))
                .await
                .unwrap();
        assert_eq!(again.org_digests, 0);
        // An instruction issued after today's digest, due in 5 days, is not lost: tomorrow's
        // digest carries it (and only it: the others were reminded today).
        let res = reviewer
            .post(
                &format!("/orgs/{org}/instructions"),
                &[
                    ("item_key", "router_ports"),
                    ("problem", "不足"),
                    ("required_change", "改善"),
                    ("due_date", &days_from_today(5)),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let again =
            secportal::app::notify::run_once(&app.state, nine_jst + chrono::Duration::hours(4))
                .await
                .unwrap();
        assert_eq!(again.org_digests, 0, "one digest per organisation per day");
        // Before 08:00 JST nothing runs; the next day the Center gets one digest of today's submission.
        let tomorrow = at(today + chrono::Duration::days(1));
        assert_eq!(
            secportal::app::notify::run_once(&app.state, tomorrow - chrono::Duration::hours(2))
                .await
                .unwrap(),
            Default::default()
        );
        let (a, b) = tokio::join!(
            secportal::app::notify::run_once(&app.state, tomorrow),
            secportal::app::notify::run_once(&app.state, tomorrow)
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(a.center_digests + b.center_digests, 1);
        assert_eq!(a.org_digests + b.org_digests, 1);
        // The day's audit anchor is logged once and goes out in the Center's digest.
        assert_eq!(a.anchors + b.anchors, 1, "one audit anchor a day");
        let digest = app.mail_text("reviewer@center.example.jp", "secportal-audit-anchor seq=");
        let anchors = secportal::db::audit::parse_anchors(&digest).unwrap();
        assert_eq!(anchors.len(), 1, "{digest}");
        assert!(matches!(
            secportal::db::audit::verify_against(app.db(), &anchors)
                .await
                .unwrap(),
            secportal::db::audit::Verdict::Intact(_)
        ));
        let text = app.mail_text("kanri@a.example.jp", "Due dates (1)");
        assert!(
            text.contains("7.4.2(1)") && !text.contains("7.4.1(3)"),
            "only the new item: {text}"
        );
        assert!(
            app.mail_link("reviewer@center.example.jp", "/review")
                .is_some()
        );
        // The lease: one holder at a time, taken over once it runs out.
        let db = app.db();
        let now = secportal::db::now();
        let lease = |h: &'static str, t: chrono::DateTime<chrono::Utc>| {
            secportal::db::notifications::lease(db, "test", h, t, t + chrono::Duration::minutes(5))
        };
        assert!(lease("a", now).await.unwrap());
        assert!(!lease("b", now).await.unwrap());
        assert!(lease("a", now).await.unwrap(), "renewed by its holder");
        assert!(
            lease("b", now + chrono::Duration::minutes(6))
                .await
                .unwrap()
        );
    }
);

pub async fn add_location(
    app: &TestApp,
    org: &str,
    kind: &str,
    office: &str,
    name: &str,
) -> String {
    let res = app
        .post(
            &format!("/orgs/{org}/locations"),
            &[
                ("kind", kind),
                ("office_id", office),
                ("name", name),
                ("address", "東京都港区海岸1-1-1"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    location(&res).rsplit('/').next().unwrap().to_string()
}

pub async fn upload_log(app: &TestApp, path: &str, name: &str, body: &[u8]) -> reqwest::Response {
    let token = app.browser().token().await;
    let form = Form::new()
        .text("csrf_token", token)
        .text("role", "logs")
        .part(
            "files",
            Part::bytes(body.to_vec()).file_name(name.to_string()),
        );
    app.client
        .post(app.url(&format!("{path}/files")))
        .header("origin", &app.base)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

dual_test!(
    requested_gateway_logs_are_checked_against_table_7_4_2_and_answer_the_request,
    |app| async move {
        let (org, _) = setup(&app).await;
        let office = add_location(&app, &org, "office", "", "本社").await;
        let site = add_location(&app, &org, "gateway_site", &office, "本社サーバ室").await;
        let reviewer = app.new_browser();
        reviewer.login("reviewer@center.example.jp", PASSWORD).await;
        let res = reviewer
            .post(
                &format!("/orgs/{org}/requests"),
                &[
                    ("item_key", "gateway_logs"),
                    ("location_id", site.as_str()),
                    ("period_from", "2026-10-01"),
                    ("period_to", "2026-10-31"),
                    ("due_date", &days_from_today(5)),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        // An office is not a gateway site.
        assert_eq!(
            app.get(&format!("/orgs/{org}/locations/{office}/gateway-logs"))
                .await
                .status(),
            StatusCode::NOT_FOUND
        );
        let path = format!("/orgs/{org}/locations/{site}/gateway-logs");
        let page = app.get(&path).await.text().await.unwrap();
        assert!(page.contains("送受信ログの提出依頼") && page.contains("2026-10-01"));
        // Submitting without logs while they are requested: refused.
        let mechanism = [
            (
                "storage",
                "ゲートウェイサーバの /var/log/naccs（外部媒体へ月次バックアップ）",
            ),
            (
                "mechanism",
                "GW ソフトウェアが送受信ごとに利用者コード・識別番号・業務コード・日時を記録",
            ),
            ("retention_months", "13"),
            ("period_from", "2026-10-01"),
            ("period_to", "2026-10-31"),
            ("action", "submit"),
        ];
        let res = app.post(&path, &mechanism).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            res.text()
                .await
                .unwrap()
                .contains("ログファイルを添付してから")
        );
        // Only CSV or text is taken as a log.
        assert_eq!(
            upload_log(&app, &path, "log.pdf", PDF).await.status(),
            StatusCode::UNPROCESSABLE_ENTITY
        );
        // A log with a send line lacking its identification number, and a short period.
        let log = "送受信区分,利用者コード,識別番号,業務コード,年月日時分秒\n送信,AAAAA,001,IDA,2026-10-01 08:59:59\n送信,AAAAA,,IDA,2026-10-02 10:00:00\n受信,AAAAA,,IDA,2026-10-20 17:00:00\n";
        let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode(log);
        assert_eq!(
            upload_log(&app, &path, "gw-202610.csv", &sjis)
                .await
                .status(),
            StatusCode::SEE_OTHER
        );
        let page = app.get(&path).await.text().await.unwrap();
        assert!(
            page.contains("確認が必要な点があります"),
            "the check is shown before submitting"
        );
        assert!(
            page.contains("送信の記録で識別番号がない行: 1 行（3 行目）"),
            "{page}"
        );
        assert!(page.contains("対象期間 2026-10-01 〜 2026-10-31 を覆っていません"));
        // Retention under a year: refused.
        let mut short = mechanism.to_vec();
        short[2] = ("retention_months", "6");
        assert_eq!(
            app.post(&path, &short).await.status(),
            StatusCode::UNPROCESSABLE_ENTITY
        );
        let res = app.post(&path, &mechanism).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let db = app.db();
        let (state, linked): (String, Option<uuid::Uuid>) = secportal::db::on_db!(db, p => sqlx::query_as("SELECT state, submission_id FROM requests").fetch_one(p).await).unwrap();
        assert_eq!(state, "answered");
        let snapshot: String = secportal::db::on_db!(db, p => sqlx::query_scalar("SELECT snapshot FROM submissions WHERE id = $1").bind(linked.unwrap()).fetch_one(p).await).unwrap();
        let snap: serde_json::Value = serde_json::from_str(&snapshot).unwrap();
        let check = &snap["data"]["log_checks"][0];
        assert_eq!(check["clean"], false);
        assert_eq!(check["send_missing"], 1);
        assert_eq!(check["lines"], 3);
        assert_eq!(
            snap["data"]["coverage"]["covers"], false,
            "the logs together"
        );
        // The reviewer sees the check with the submission.
        let page = reviewer
            .get(&format!("/review/{}", linked.unwrap()))
            .await
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("送信の記録で識別番号がない行: 1 行（3 行目）")
                && page.contains("<svg")
                && !page.contains("log_checks"),
            "the reviewer reads the kept check in words: {page}"
        );
        // The summary above it, from the sealed totals; the check itself is shown once (the
        // report's table of sealed totals gives way to the kept check).
        assert!(
            page.contains("ログ検査（gw-202610.csv）：送信の記録で識別番号がない行 1 件")
                && page.contains(
                    "ログ検査（添付したログ全体）：ログの記録期間が対象期間を覆っていません"
                )
                && !page.contains("ログファイルの確認結果"),
            "{page}"
        );
    }
);

dual_test!(
    exports_open_in_excel_carry_every_record_and_are_audited,
    |app| async move {
        let (org, sub, reviewer) = sent_with_reviewer(&app).await;
        reviewer
            .post(
                &format!("/review/{sub}/decide"),
                &[("decision", "returned"), ("reason", "=危険な式, \"引用\"")],
            )
            .await;
        reviewer
            .post(
                &format!("/orgs/{org}/instructions"),
                &[
                    ("item_key", "antivirus"),
                    ("problem", "定義ファイルが古い"),
                    ("required_change", "毎日更新"),
                    ("due_date", &days_from_today(10)),
                ],
            )
            .await;
        // Organisations do not export.
        assert_eq!(
            app.get("/admin/exports/submissions/csv").await.status(),
            StatusCode::FORBIDDEN
        );
        let res = reviewer.get("/admin/exports/submissions/csv").await;
        assert_eq!(res.status(), StatusCode::OK);
        assert!(
            res.headers()["content-disposition"]
                .to_str()
                .unwrap()
                .starts_with("attachment")
        );
        let csv = res.text().await.unwrap();
        assert!(
            csv.starts_with("\u{feff}受付番号,利用者コード,組織名"),
            "{csv}"
        );
        assert!(csv.contains("AAAAA") && csv.contains("差戻し"), "{csv}");
        assert!(
            csv.contains("\"'=危険な式, \"\"引用\"\"\""),
            "a formula is defused: {csv}"
        );
        let json: serde_json::Value = serde_json::from_str(
            &reviewer
                .get("/admin/exports/instructions/json")
                .await
                .text()
                .await
                .unwrap(),
        )
        .unwrap();
        assert_eq!(json[0]["problem"], "定義ファイルが古い");
        assert_eq!(json[0]["org_code"], "AAAAA");
        // Instructions are filtered in the query, as they stream: by item, state and period.
        reviewer
            .post(
                &format!("/orgs/{org}/instructions"),
                &[
                    ("item_key", "system_configuration"),
                    ("problem", "構成図にルータがない"),
                    ("required_change", "ルータを記載"),
                    ("due_date", &days_from_today(20)),
                ],
            )
            .await;
        let count = |q: &'static str| {
            let reviewer = &reviewer;
            async move {
                let body = reviewer
                    .get(&format!("/admin/exports/instructions/json{q}"))
                    .await
                    .text()
                    .await
                    .unwrap();
                let rows: serde_json::Value = serde_json::from_str(&body).unwrap();
                rows.as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r["problem"].as_str().unwrap().to_string())
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(count("").await.len(), 2);
        assert_eq!(
            count("?item=system_configuration").await,
            ["構成図にルータがない"]
        );
        assert_eq!(count("?state=open").await.len(), 2);
        assert!(count("?state=closed").await.is_empty());
        assert!(
            count("?org=BBBBB").await.is_empty(),
            "the other organisation"
        );
        assert!(
            count("?to=2020-01-01").await.is_empty(),
            "issued in the period"
        );
        let xlsx = reviewer
            .get("/admin/exports/requests/xlsx")
            .await
            .bytes()
            .await
            .unwrap();
        assert!(xlsx.starts_with(b"PK\x03\x04"));
        assert_eq!(
            secportal::domain::workbook::read(&xlsx).unwrap()[0]
                .rows
                .len(),
            1,
            "header only"
        );
        assert_eq!(
            reviewer.get("/admin/exports/users/csv").await.status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            reviewer
                .get("/admin/exports/submissions/pdf")
                .await
                .status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(app.audit_count("export.downloaded").await, 9);
    }
);

dual_test!(
    removing_a_log_file_returns_to_the_gateway_sites_page,
    |app| async move {
        let (org, _) = setup(&app).await;
        let office = add_location(&app, &org, "office", "", "本社").await;
        let site = add_location(&app, &org, "gateway_site", &office, "本社サーバ室").await;
        let path = format!("/orgs/{org}/locations/{site}/gateway-logs");
        let log = "送受信区分,利用者コード,識別番号,業務コード,年月日時分秒\n送信,AAAAA,001,IDA,2026-10-01 08:59:59\n";
        assert_eq!(
            upload_log(&app, &path, "gw.csv", log.as_bytes())
                .await
                .status(),
            StatusCode::SEE_OTHER
        );
        let page = app.get(&path).await.text().await.unwrap();
        let remove = page
            .split("action=\"")
            .filter_map(|rest| rest.split('"').next())
            .find(|a| a.ends_with("/remove"))
            .unwrap()
            .to_string();
        let res = app.post(&remove, &[]).await;
        assert_eq!(location(&res), path, "back to the site's log page");
        let page = app.get(&path).await.text().await.unwrap();
        assert!(page.contains("ファイルを削除しました") && !page.contains("gw.csv"));
    }
);

dual_test!(
    the_centers_follow_up_list_opens_an_organisations_forms_by_its_user_code,
    |app| async move {
        let (org, _) = setup(&app).await;
        let reviewer = app.new_browser();
        reviewer.login("reviewer@center.example.jp", PASSWORD).await;
        let page = reviewer.get("/review/followup").await.text().await.unwrap();
        assert!(page.contains("新しい指示・依頼を出す組織（利用者コード）"));
        // Typed as people type it: lower case, full width.
        for typed in ["aaaaa", "ＡＡＡＡＡ"] {
            let res = reviewer
                .get(&format!("/review/followup?code={}", urlencoding(typed)))
                .await;
            assert_eq!(res.status(), StatusCode::SEE_OTHER, "{typed}");
            assert_eq!(location(&res), format!("/orgs/{org}/followup#instruct"));
        }
        let res = reviewer.get("/review/followup?code=ZZZZZ").await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = res.text().await.unwrap();
        assert!(
            html.contains("この利用者コードの組織は登録されていません。")
                && html.contains("value=\"ZZZZZ\"")
        );
        let res = reviewer.get("/review/followup?code=12").await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        // An organisation's user finds no other organisation this way.
        assert_eq!(
            app.get("/review/followup?code=BBBBB").await.status(),
            StatusCode::FORBIDDEN
        );
    }
);

fn urlencoding(s: &str) -> String {
    s.bytes().map(|b| format!("%{b:02X}")).collect()
}

dual_test!(
    an_instruction_or_request_form_pressed_many_times_at_once_issues_one,
    |app| async move {
        let (org, org_b) = setup(&app).await;
        let reviewer = app.new_browser();
        reviewer.login("reviewer@center.example.jp", PASSWORD).await;
        let page = reviewer.html(&format!("/orgs/{org}/followup")).await;
        let keys: Vec<String> = page
            .split("name=\"form_key\" value=\"")
            .skip(1)
            .filter_map(|rest| rest.split('"').next().map(str::to_string))
            .collect();
        assert_eq!(keys.len(), 2, "the instruction's and the request's forms");
        let due = days_from_today(14);
        let instruction = [
            ("item_key", "antivirus"),
            ("problem", "定義ファイルが古い端末がある"),
            ("required_change", "全端末の定義ファイルを更新すること"),
            ("due_date", due.as_str()),
            ("form_key", keys[0].as_str()),
        ];
        let path = format!("/orgs/{org}/instructions");
        let presses = (0..6).map(|_| reviewer.post(&path, &instruction));
        let answers = futures_util::future::join_all(presses).await;
        let places: Vec<String> = answers.iter().map(location).collect();
        assert!(answers.iter().all(|r| r.status() == StatusCode::SEE_OTHER));
        assert!(places.iter().all(|p| *p == places[0]), "{places:?}");
        assert_eq!(app.count("instructions").await, 1);
        assert_eq!(app.count("instruction_events").await, 1);
        assert_eq!(app.audit_count("instruction.issued").await, 1);
        let request = [
            ("item_key", "inhouse_measures"),
            ("due_date", due.as_str()),
            ("form_key", keys[1].as_str()),
        ];
        let path = format!("/orgs/{org}/requests");
        let presses = (0..6).map(|_| reviewer.post(&path, &request));
        let answers = futures_util::future::join_all(presses).await;
        assert!(answers.iter().all(|r| r.status() == StatusCode::SEE_OTHER));
        assert_eq!(app.count("requests").await, 1);
        assert_eq!(app.audit_count("request.issued").await, 1);
        // The same key posted for another organisation is no repeat: issued there on its own.
        let res = reviewer
            .post(&format!("/orgs/{org_b}/instructions"), &instruction)
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_ne!(location(&res), places[0]);
        assert_eq!(app.count("instructions").await, 2);
        // A new page gives new keys: the next instruction is a new one.
        let page = reviewer.html(&format!("/orgs/{org}/followup")).await;
        let fresh: Vec<&str> = page
            .split("name=\"form_key\" value=\"")
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
            .collect();
        assert!(fresh.len() == 2 && !keys.iter().any(|k| fresh.contains(&k.as_str())));
    }
);
