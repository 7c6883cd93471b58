//! Follow-up through `/api/v1` beyond issuing and answering: an extension asked, granted,
//! an answer with files (streamed), closing and reopening, a request withdrawn, comments on
//! a submission from both sides; another organisation's ids and read-only tokens.

use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::api_support::{
    fields, get_json, in_days, make_token, post, reviewer_token, send, submitted,
};
use crate::dual_test;
use crate::helpers::TestApp;

/// The Center issues an instruction to `org` about `submission` through the API; answers its id.
async fn instruct(app: &TestApp, center: &str, org: &str, submission: &str) -> String {
    let body = json!({"submission": submission, "item_key": "system_configuration",
        "problem": "台数がありません。", "required_change": "台数を記入してください。", "due_date": in_days(30)});
    let path = format!("/api/v1/orgs/{org}/instructions");
    let (status, created) = send(post(app, center, &path, "issue", &body)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created["id"].as_str().unwrap().to_string()
}

/// The instruction as the token's side lists it.
async fn listed(app: &TestApp, token: &str, path: &str, id: &str) -> Value {
    let all = get_json(app, token, path).await;
    all["instructions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == id)
        .cloned()
        .unwrap_or(Value::Null)
}

/// A corrective-action report with one file, as multipart.
fn answer_form(text: &str, file: &str, bytes: &'static [u8]) -> Form {
    Form::new()
        .text("body", text.to_string())
        .part("files", Part::bytes(bytes).file_name(file.to_string()))
}

dual_test!(
    an_instruction_runs_its_whole_course_through_the_api_and_the_answers_file_shows_on_the_page,
    |app| async move {
        let (a, org, sub) = submitted(&app, "kanri@a.example.jp", "AAAAA").await;
        let (b, org_b, _) = submitted(&app, "kanri@b.example.jp", "BBBBB").await;
        let (r, center) = reviewer_token(&app, &["review_read", "review_write"]).await;
        let id = instruct(&app, &center, &org, &sub).await;
        let mine = make_token(&a, "a", &["reports_read", "reports_write"]).await;
        let theirs = make_token(&b, "b", &["reports_read", "reports_write"]).await;

        // The organisation asks for more time; another organisation's token meets nothing.
        let v = listed(&app, &mine, "/api/v1/followup", &id).await["version"].clone();
        let ask = json!({"version": v, "until": in_days(60), "reason": "部品の入荷待ちです。"});
        let extension = format!("/api/v1/instructions/{id}/extension");
        let (status, _) = send(post(&app, &theirs, &extension, "x-1", &ask)).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let early = json!({"version": v, "until": in_days(10), "reason": "早めます。"});
        let (status, p) = send(post(&app, &mine, &extension, "x-0", &early)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(fields(&p), vec!["until"]);
        let (status, done) = send(post(&app, &mine, &extension, "x-1", &ask)).await;
        assert_eq!(status, StatusCode::CREATED, "{done}");
        assert_eq!(app.audit_count("instruction.extension_requested").await, 1);

        // The Center grants it; the pair of another organisation and this instruction is not found.
        let seen = listed(&app, &center, "/api/v1/review/followup", &id).await;
        let grant = json!({"version": seen["version"], "action": "grant", "date": in_days(60)});
        let wrong = format!("/api/v1/orgs/{org_b}/instructions/{id}/decision");
        let (status, _) = send(post(&app, &center, &wrong, "d-0", &grant)).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let decision = format!("/api/v1/orgs/{org}/instructions/{id}/decision");
        let (status, done) = send(post(&app, &center, &decision, "d-1", &grant)).await;
        assert_eq!(status, StatusCode::CREATED, "{done}");
        let granted = listed(&app, &mine, "/api/v1/followup", &id).await;
        assert_eq!(granted["due_date"], in_days(60));
        assert_eq!(app.audit_count("instruction.extension_granted").await, 1);

        // The answer with a file streams in; a retry of it records nothing twice.
        let url = app.url(&format!("/api/v1/instructions/{id}/answer/files"));
        let answer = |key: &str, form: Form| {
            reqwest::Client::new()
                .post(&url)
                .bearer_auth(&mine)
                .header("idempotency-key", key)
                .multipart(form)
        };
        let refused = answer_form("台数を記入しました。", "是正.exe", b"MZ\x90\x00binary");
        let (status, p) = send(answer("ans-0", refused)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
        assert_eq!(fields(&p), vec!["files.0"]);
        assert_eq!(app.audit_count("instruction.answered").await, 0);
        let pdf: &[u8] = b"%PDF-1.7\n%%EOF\n";
        let form = || answer_form("台数を記入しました。", "是正報告書.pdf", pdf);
        let (status, done) = send(answer("ans-1", form())).await;
        assert_eq!(status, StatusCode::CREATED, "{done}");
        let res = answer("ans-1", form()).send().await.unwrap();
        assert_eq!(res.headers()["idempotent-replayed"], "true");
        assert_eq!(app.audit_count("instruction.answered").await, 1);
        assert_eq!(app.count("instruction_files").await, 1);
        let page = r
            .get(&format!("/orgs/{org}/instructions/{id}"))
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("是正報告書.pdf") && page.contains("台数を記入しました。"));

        // Closed, then reopened with a reason; a stale version applies nothing.
        let v = listed(&app, &center, "/api/v1/review/followup", &id).await["version"].clone();
        let close = json!({"version": v, "action": "close"});
        let (status, _) = send(post(&app, &center, &decision, "d-2", &close)).await;
        assert_eq!(status, StatusCode::CREATED);
        let (status, _) = send(post(&app, &center, &decision, "d-3", &close)).await;
        assert_eq!(status, StatusCode::CONFLICT);
        let v = listed(&app, &mine, "/api/v1/followup", &id).await["version"].clone();
        let reopen = json!({"version": v, "action": "reopen"});
        let (status, p) = send(post(&app, &center, &decision, "d-4", &reopen)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(fields(&p), vec!["reason"]);
        let reopen = json!({"version": v, "action": "reopen",
            "reason": "添付の報告書に台数の根拠がありません。"});
        let (status, _) = send(post(&app, &center, &decision, "d-5", &reopen)).await;
        assert_eq!(status, StatusCode::CREATED);
        assert_eq!(app.audit_count("instruction.closed").await, 1);
        assert_eq!(app.audit_count("instruction.reopened").await, 1);
        let told = listed(&app, &mine, "/api/v1/followup", &id).await;
        assert_eq!(told["state"], "open");
    }
);

dual_test!(
    the_center_withdraws_a_request_and_both_sides_comment_on_a_submission,
    |app| async move {
        let (a, org, sub) = submitted(&app, "kanri@a.example.jp", "AAAAA").await;
        let (b, _, theirs_sub) = submitted(&app, "kanri@b.example.jp", "BBBBB").await;
        let (_, center) = reviewer_token(&app, &["review_read", "review_write"]).await;
        let body = json!({"item_key": "inhouse_measures", "due_date": in_days(20)});
        let requests = format!("/api/v1/orgs/{org}/requests");
        let (status, created) = send(post(&app, &center, &requests, "r-1", &body)).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let rid = created["id"].as_str().unwrap();
        let withdraw = format!("/api/v1/orgs/{org}/requests/{rid}/withdraw");
        let (status, done) = send(post(&app, &center, &withdraw, "w-1", &json!({}))).await;
        assert_eq!(status, StatusCode::OK, "{done}");
        assert_eq!(done["state"], "withdrawn");
        let (status, _) = send(post(&app, &center, &withdraw, "w-2", &json!({}))).await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert_eq!(app.audit_count("request.withdrawn").await, 1);

        let mine = make_token(&a, "a", &["reports_read", "reports_write"]).await;
        let theirs = make_token(&b, "b", &["reports_read", "reports_write"]).await;
        let said = json!({"body": "機器一覧の台数は別紙のとおりです。"});
        let own = format!("/api/v1/submissions/{sub}/comments");
        let (status, _) = send(post(&app, &theirs, &own, "c-0", &said)).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = send(post(&app, &mine, &own, "c-0", &json!({"body": " "}))).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        let (status, thread) = send(post(&app, &mine, &own, "c-1", &said)).await;
        assert_eq!(status, StatusCode::CREATED, "{thread}");
        let center_path = format!("/api/v1/review/submissions/{sub}/comments");
        let reply = json!({"body": "確認しました。"});
        let (status, thread) = send(post(&app, &center, &center_path, "c-2", &reply)).await;
        assert_eq!(status, StatusCode::CREATED, "{thread}");
        assert_eq!(thread["comments"].as_array().unwrap().len(), 2);
        let read = get_json(&app, &mine, &own).await;
        assert_eq!(read[0]["body"], "機器一覧の台数は別紙のとおりです。");
        assert_eq!(
            (read[0]["center"].clone(), read[1]["center"].clone()),
            (json!(false), json!(true))
        );
        assert_eq!(app.audit_count("submission.commented").await, 2);
        let (status, _) = send(crate::api_support::api(
            &app,
            &mine,
            &format!("/api/v1/submissions/{theirs_sub}/comments"),
        ))
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        // The organisation hears of the Center's comment.
        assert!(app.mail_count() >= 1);
    }
);

dual_test!(
    a_read_only_token_takes_no_follow_up_step_and_nothing_changes,
    |app| async move {
        let (a, org, sub) = submitted(&app, "kanri@a.example.jp", "AAAAA").await;
        let (_, center) = reviewer_token(&app, &["review_read", "review_write"]).await;
        let id = instruct(&app, &center, &org, &sub).await;
        let reader = make_token(&a, "read", &["reports_read"]).await;
        let v = listed(&app, &reader, "/api/v1/followup", &id).await["version"].clone();
        let org_steps = [
            (
                format!("/api/v1/instructions/{id}/extension"),
                json!({"version": v, "until": in_days(60), "reason": "理由"}),
            ),
            (
                format!("/api/v1/instructions/{id}/answer"),
                json!({"body": "回答"}),
            ),
            (
                format!("/api/v1/submissions/{sub}/comments"),
                json!({"body": "コメント"}),
            ),
        ];
        for (path, body) in &org_steps {
            let (status, _) = send(post(&app, &reader, path, path, body)).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        }
        let res = reqwest::Client::new()
            .post(app.url(&format!("/api/v1/instructions/{id}/answer/files")))
            .bearer_auth(&reader)
            .header("idempotency-key", "f")
            .multipart(answer_form("回答", "a.pdf", b"%PDF-1.7\n%%EOF\n"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        // A Center token without review:write.
        let (_, looker) = {
            let r = app.new_browser();
            r.login("reviewer@center.example.jp", crate::helpers::PASSWORD)
                .await;
            let t = make_token(&r, "look", &["review_read"]).await;
            (r, t)
        };
        let body = json!({"item_key": "inhouse_measures", "due_date": in_days(20)});
        let (_, created) = send(post(
            &app,
            &center,
            &format!("/api/v1/orgs/{org}/requests"),
            "r",
            &body,
        ))
        .await;
        let rid = created["id"].as_str().unwrap();
        let center_steps = [
            (
                format!("/api/v1/orgs/{org}/instructions/{id}/decision"),
                json!({"version": v, "action": "close"}),
            ),
            (
                format!("/api/v1/orgs/{org}/requests/{rid}/withdraw"),
                json!({}),
            ),
            (
                format!("/api/v1/review/submissions/{sub}/comments"),
                json!({"body": "コメント"}),
            ),
        ];
        for (path, body) in &center_steps {
            let (status, _) = send(post(&app, &looker, path, path, body)).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        }
        for action in [
            "instruction.extension_requested",
            "instruction.answered",
            "instruction.closed",
            "request.withdrawn",
            "submission.commented",
        ] {
            assert_eq!(app.audit_count(action).await, 0, "{action}");
        }
        let after = listed(&app, &reader, "/api/v1/followup", &id).await;
        assert_eq!(
            (after["state"].clone(), after["version"].clone()),
            (json!("open"), v)
        );
    }
);
