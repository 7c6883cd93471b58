//! Forms as a person meets them (issue 8 item 6): a form's errors show on that form only and
//! are tied to their fields, with a summary at the top that takes the focus; required fields
//! are marked; closing an office or a connection asks for confirmation; the connection form
//! has no silent default; flashes say what happened.

use reqwest::StatusCode;

use crate::dual_test;
use crate::helpers::{PASSWORD, TestApp, location};

/// Every `id="…"` of the page, to find one given twice.
fn duplicate_ids(html: &str) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    html.split(" id=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .filter(|id| !seen.insert(id.to_string()))
        .map(str::to_string)
        .collect()
}

/// The part of the page inside the form posting to `action`.
fn form_of<'a>(html: &'a str, action: &str) -> &'a str {
    html.split(&format!("action=\"{action}\""))
        .nth(1)
        .unwrap_or_else(|| panic!("no form posting to {action}"))
        .split("</form>")
        .next()
        .unwrap()
}

async fn office(app: &TestApp, org: &str) -> String {
    let res = app
        .post(
            &format!("/orgs/{org}/locations"),
            &[
                ("kind", "office"),
                ("office_id", ""),
                ("name", "本社"),
                ("address", "東京都港区海岸1-1-1"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    location(&res).rsplit('/').next().unwrap().to_string()
}

dual_test!(
    the_location_pages_forms_keep_their_errors_to_themselves_tied_to_their_fields,
    |app| async move {
        app.add_user("kanri@a.example.jp", "org_admin", Some("AAAAA"))
            .await;
        app.login("kanri@a.example.jp", PASSWORD).await;
        let org = app.org_of("kanri@a.example.jp").await.to_string();
        let loc = office(&app, &org).await;
        let page = format!("/orgs/{org}/locations/{loc}");

        // The page as first shown: no id twice, required fields marked, the connection form
        // starts on "choose one" rather than a form picked for the user.
        let html = app.get(&page).await.text().await.unwrap();
        assert_eq!(duplicate_ids(&html), Vec::<String>::new());
        assert!(html.contains("<span class=\"req\">必須</span>"));
        let conn = form_of(&html, &format!("{page}/connections"));
        assert!(conn.contains("<option value=\"\">選択してください</option>"));
        assert!(!conn.contains(" selected"));

        // An appointment with its name missing: the error is on the appointment form only.
        let res = app
            .post(
                &format!("{page}/appointments"),
                &[
                    ("name", ""),
                    ("name_kana", "ヤマダ タロウ"),
                    ("department", "情報システム部"),
                    ("phone", "03-1234-5678"),
                    ("email", "yamada@a.example.jp"),
                    ("effective_from", "2026-04-01"),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = res.text().await.unwrap();
        assert_eq!(duplicate_ids(&html), Vec::<String>::new());
        let details = form_of(&html, &page);
        assert!(!details.contains("aria-invalid"), "{details}");
        assert!(!details.contains("field-error"));
        let appoint = form_of(&html, &format!("{page}/appointments"));
        assert!(appoint.contains(
            "id=\"f-appoint-name\" name=\"name\" type=\"text\" value=\"\" autocomplete=\"name\" aria-invalid=\"true\" aria-describedby=\"f-appoint-name-error\""
        ));
        assert!(appoint.contains("<p class=\"field-error\" id=\"f-appoint-name-error\">"));
        // The summary stands right above the form (not in its grid of fields) and takes the
        // focus.
        let summary = html
            .find("class=\"error-summary\" role=\"alert\" tabindex=\"-1\" autofocus")
            .unwrap();
        let form_at = html
            .find(&format!("action=\"{page}/appointments\""))
            .unwrap();
        assert!(summary < form_at && html[summary..form_at].matches("<form").count() == 1);
        assert!(html[summary..form_at].contains("入力内容に誤りがある項目があります。"));
        assert_eq!(html.matches("class=\"error-summary\"").count(), 1);
        // What was typed is kept.
        assert!(appoint.contains("value=\"情報システム部\""));

        // A connection without its form chosen is refused on the connection form, nothing stored.
        let before = app.count("connections").await;
        let res = app
            .post(
                &format!("{page}/connections"),
                &[("form", ""), ("router_id", "R-0001")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = res.text().await.unwrap();
        let conn = form_of(&html, &format!("{page}/connections"));
        assert!(conn.contains("aria-describedby=\"f-conn-form-error\""));
        assert!(conn.contains("接続形態を選んでください。"));
        assert!(conn.contains("value=\"R-0001\""));
        assert!(!form_of(&html, &format!("{page}/appointments")).contains("field-error"));
        assert_eq!(app.count("connections").await, before);

        // Chosen, it is registered and the flash says so.
        let res = app
            .post(
                &format!("{page}/connections"),
                &[("form", "gateway"), ("router_id", "R-0001")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let html = app.get(&page).await.text().await.unwrap();
        assert!(html.contains("NACCS との接続を登録しました。"));
        let conn = html
            .split("/connections/")
            .nth(1)
            .unwrap()
            .split('/')
            .next()
            .unwrap()
            .to_string();
        // Closing asks for its confirmation box (required in the form, so only a hand-made
        // request comes without it); without it nothing changes.
        let close = form_of(&html, &format!("/orgs/{org}/connections/{conn}/deactivate"));
        assert!(close.contains("name=\"confirm\" value=\"yes\" required"));
        let closed = app.audit_count("connection.deactivated").await;
        let res = app
            .post(&format!("/orgs/{org}/connections/{conn}/deactivate"), &[])
            .await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        assert_eq!(app.audit_count("connection.deactivated").await, closed);
        let res = app
            .post(
                &format!("/orgs/{org}/connections/{conn}/deactivate"),
                &[("confirm", "yes")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(app.audit_count("connection.deactivated").await, closed + 1);
        let html = app.get(&page).await.text().await.unwrap();
        assert!(html.contains("接続を廃止しました。"));

        // The same for the office itself.
        let res = app
            .post(&format!("{page}/active"), &[("active", "false")])
            .await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        let res = app
            .post(
                &format!("{page}/active"),
                &[("active", "false"), ("confirm", "yes")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let html = app.get(&page).await.text().await.unwrap();
        assert!(html.contains("事業所等を廃止しました。"));
    }
);

dual_test!(
    the_follow_up_pages_instruction_errors_stay_off_the_request_form,
    |app| async move {
        app.add_user("kanri@a.example.jp", "org_admin", Some("AAAAA"))
            .await;
        app.add_user("reviewer@center.example.jp", "reviewer", None)
            .await;
        let org = app.org_of("kanri@a.example.jp").await.to_string();
        app.login("reviewer@center.example.jp", PASSWORD).await;
        let res = app
            .post(
                &format!("/orgs/{org}/instructions"),
                &[
                    ("submission_id", ""),
                    ("item_key", ""),
                    ("location_id", ""),
                    ("problem", ""),
                    ("required_change", ""),
                    ("due_date", ""),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = res.text().await.unwrap();
        assert_eq!(duplicate_ids(&html), Vec::<String>::new());
        let instruct = form_of(&html, &format!("/orgs/{org}/instructions"));
        assert!(instruct.contains("aria-describedby=\"f-i-problem-error\""));
        assert!(instruct.contains("class=\"error-summary\""));
        let request = form_of(&html, &format!("/orgs/{org}/requests"));
        assert!(!request.contains("field-error"), "{request}");
        assert!(!request.contains("aria-invalid"));
        assert!(!request.contains("error-summary"));
        assert_eq!(app.count("instructions").await, 0);
    }
);
