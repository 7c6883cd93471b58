//! `/api/v1` for an organisation's reports and the follow-up between the Center and an
//! organisation: pushing rows, streaming a file, submitting, the Python example, answering.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::api_support::{
    api, av_row, get_json, make_token, org_with_office, post, problem, reviewer_token, submitted,
};
use crate::dual_test;

dual_test!(
    the_center_instructs_through_the_api_and_only_that_organisation_can_answer,
    |app| async move {
        let (a, org, id) = submitted(&app, "kanri@a.example.jp", "AAAAA").await;
        let (b, _, _) = submitted(&app, "kanri@b.example.jp", "BBBBB").await;
        let (_, center) = reviewer_token(&app, &["review_read", "review_write"]).await;
        let due = (chrono::Utc::now() + chrono::Duration::days(30))
            .format("%Y-%m-%d")
            .to_string();
        let body = json!({"submission": id, "item_key": "system_configuration", "problem": "台数がありません。",
            "required_change": "台数を記入してください。", "due_date": due});
        let res = post(
            &app,
            &center,
            &format!("/api/v1/orgs/{org}/instructions"),
            "i-1",
            &body,
        )
        .send()
        .await
        .unwrap();
        let status = res.status();
        let created: Value = res.json().await.unwrap();
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let instruction = created["id"].as_str().unwrap().to_string();
        let open: Value = get_json(&app, &center, "/api/v1/review/followup").await;
        assert_eq!(open["instructions"][0]["id"], instruction.as_str());

        let theirs = make_token(&b, "b", &["reports_read", "reports_write"]).await;
        let answer = json!({"body": "台数を記入しました。"});
        let res = post(
            &app,
            &theirs,
            &format!("/api/v1/instructions/{instruction}/answer"),
            "a-1",
            &answer,
        )
        .send()
        .await
        .unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        let mine = make_token(&a, "a", &["reports_read", "reports_write"]).await;
        let told: Value = get_json(&app, &mine, "/api/v1/followup").await;
        assert_eq!(told["instructions"][0]["problem"], "台数がありません。");
        let res = post(
            &app,
            &mine,
            &format!("/api/v1/instructions/{instruction}/answer"),
            "a-1",
            &answer,
        )
        .send()
        .await
        .unwrap();
        assert_eq!(
            res.status(),
            StatusCode::CREATED,
            "{}",
            res.text().await.unwrap()
        );
        // Every write attempt through a token is audited, the refused one too.
        assert_eq!(app.audit_count("api_token.write").await, 3);
        assert_eq!(app.audit_count("instruction.answered").await, 1);
    }
);

dual_test!(
    antivirus_rows_pushed_through_the_api_are_checked_whole_then_submitted_once,
    |app| async move {
        let (org, _) = org_with_office(&app).await;
        let token = make_token(
            &app.browser(),
            "defender",
            &["reports_read", "reports_write"],
        )
        .await;
        let bad = json!({"rows": [av_row("PC-001", "本社"), av_row("PC-002", "大阪支店")]});
        let res = post(
            &app,
            &token,
            "/api/v1/reports/antivirus/rows",
            "rows-1",
            &bad,
        )
        .send()
        .await
        .unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let p = problem(res).await;
        let fields: Vec<&str> = p["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert!(fields.contains(&"rows.1.office"), "{fields:?}");
        assert_eq!(app.count("submissions").await, 0, "nothing stored");
        let good = json!({"rows": [av_row("PC-001", "本社"), av_row("PC-002", "本社")]});
        let res = post(
            &app,
            &token,
            "/api/v1/reports/antivirus/rows",
            "rows-2",
            &good,
        )
        .send()
        .await
        .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.json::<Value>().await.unwrap()["rows"], 2);
        let submit = || {
            post(
                &app,
                &token,
                "/api/v1/reports/antivirus/submit",
                "submit-1",
                &json!({}),
            )
        };
        let res = submit().send().await.unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        let receipt: Value = res.json().await.unwrap();
        let again: Value = submit().send().await.unwrap().json().await.unwrap();
        assert_eq!(again, receipt, "a retry answers the first receipt");
        assert_eq!(app.audit_count("submission.submitted").await, 1);
        let id = receipt["submission"].as_str().unwrap();
        let detail: Value = get_json(&app, &token, &format!("/api/v1/submissions/{id}")).await;
        assert_eq!(detail["receipt_no"], receipt["receipt_no"]);
        assert!(
            detail["receipt_code"]
                .as_str()
                .is_some_and(|c| c.len() == 11)
        );
        let checklist: Value = get_json(&app, &token, "/api/v1/checklist").await;
        let av = checklist
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["item"] == "antivirus")
            .unwrap();
        assert_eq!(av["status"], "submitted");
        // The page shows what the script sent.
        let page = app
            .get(&format!("/orgs/{org}/submissions/{id}/receipt"))
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains(receipt["receipt_no"].as_str().unwrap()));
    }
);

dual_test!(
    a_file_streams_into_a_draft_and_the_system_configuration_is_submitted,
    |app| async move {
        org_with_office(&app).await;
        let token = make_token(&app.browser(), "cmdb", &["reports_read", "reports_write"]).await;
        let upload = |name: &str, role: &str, key: &str, body: &'static [u8]| {
            reqwest::Client::new()
                .post(app.url(&format!(
                    "/api/v1/reports/system_configuration/files?role={role}&name={name}"
                )))
                .bearer_auth(&token)
                .header("idempotency-key", key)
                .header("content-type", "application/octet-stream")
                .body(body)
        };
        let res = upload("diagram.pdf", "diagram", "f-1", b"%PDF-1.7\n%%EOF\n")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        let file: Value = res.json().await.unwrap();
        assert_eq!(file["size"], 15);
        // A retry of the same upload stores nothing twice.
        let res = upload("diagram.pdf", "diagram", "f-1", b"%PDF-1.7\n%%EOF\n")
            .send()
            .await
            .unwrap();
        assert_eq!(res.headers()["idempotent-replayed"], "true");
        assert_eq!(app.count("submission_files").await, 1);
        let res = upload("diagram.pdf", "logs", "f-2", b"%PDF-1.7\n%%EOF\n")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let rows = json!({"rows": [{"device_type": "client_pc", "maker": "NEC", "model": "Mate", "os_firmware": "Windows 11",
            "quantity": "3", "location": "本社", "role": "端末", "naccs": "yes"}]});
        let res = post(
            &app,
            &token,
            "/api/v1/reports/system_configuration/equipment",
            "eq-1",
            &rows,
        )
        .send()
        .await
        .unwrap();
        let status = res.status();
        assert_eq!(status, StatusCode::OK, "{}", res.text().await.unwrap());
        let res = post(
            &app,
            &token,
            "/api/v1/reports/system_configuration/submit",
            "s-1",
            &json!({}),
        )
        .send()
        .await
        .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        let list: Value = get_json(&app, &token, "/api/v1/submissions").await;
        assert_eq!(list[0]["state"], "submitted");
        assert_eq!(list[0]["kind"], "system_configuration");
    }
);

dual_test!(
    the_python_example_pushes_antivirus_rows_and_submits,
    |app| async move {
        org_with_office(&app).await;
        let token = make_token(&app.browser(), "nightly", &["reports_write"]).await;
        let rows = json!([
            av_row("PC-001", "本社"),
            av_row("PC-002", "本社"),
            av_row("PC-003", "本社")
        ]);
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/docs/examples/push_antivirus.py"
        );
        let python = std::env::var("SECPORTAL_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
        let base = app.base.clone();
        let out = tokio::task::spawn_blocking(move || {
            use std::io::Write;
            let mut child = std::process::Command::new(python)
                .args([script, &base, "-"])
                .env("SECPORTAL_TOKEN", &token)
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("python3");
            child
                .stdin
                .take()
                .unwrap()
                .write_all(rows.to_string().as_bytes())
                .unwrap();
            child.wait_with_output().unwrap()
        })
        .await
        .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains("3 computers saved"), "{stdout}");
        assert!(stdout.contains("submitted: receipt "), "{stdout}");
        assert_eq!(app.audit_count("submission.submitted").await, 1);
        assert_eq!(app.audit_count("api_token.write").await, 2);
    }
);

dual_test!(
    the_center_pulls_an_export_as_streamed_ndjson_or_csv_and_each_pull_is_audited,
    |app| async move {
        let (a, _, _) = submitted(&app, "kanri@a.example.jp", "AAAAA").await;
        submitted(&app, "kanri@b.example.jp", "BBBBB").await;
        let (_, token) = reviewer_token(&app, &["exports_read"]).await;
        let res = api(&app, &token, "/api/v1/exports/submissions")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()["content-type"], "application/x-ndjson");
        let text = res.text().await.unwrap();
        let rows: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(rows.len(), 2, "{text}");
        assert!(rows.iter().any(|r| r["org_code"] == "AAAAA"));
        let res = api(
            &app,
            &token,
            "/api/v1/exports/submissions?format=csv&org=BBBBB",
        )
        .header("accept-language", "en")
        .send()
        .await
        .unwrap();
        assert!(
            res.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/csv")
        );
        let csv = res.text().await.unwrap();
        assert_eq!(csv.lines().count(), 2, "a header and one row: {csv}");
        assert!(csv.contains("BBBBB") && !csv.contains("AAAAA"));
        assert_eq!(app.audit_count("export.downloaded").await, 2);
        let res = api(&app, &token, "/api/v1/exports/submissions?from=2026-13-01")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(problem(res).await["errors"][0]["field"], "from");
        // Exports are the Center's: an organisation's token cannot pull them.
        let org = make_token(&a, "a", &["reports_read"]).await;
        let res = api(&app, &org, "/api/v1/exports/submissions")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        assert_eq!(app.audit_count("export.downloaded").await, 2);
    }
);
