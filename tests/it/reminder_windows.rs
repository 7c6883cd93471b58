//! Reminders follow a request's upload window (issue 11, item 5): nothing while uploads are
//! refused, a notice when the window opens, the due reminders with the window named.

use reqwest::StatusCode;

use crate::dual_test;
use crate::followup::setup;
use crate::helpers::PASSWORD;

/// The organisations' reminder digests the scheduler sends at 09:00 JST (00:00 UTC) on the
/// day `n` days from today.
async fn digests(app: &crate::helpers::TestApp, n: i64) -> usize {
    let d = secportal::web::page::today() + chrono::Duration::days(n);
    let nine = chrono::TimeZone::from_utc_datetime(&chrono::Utc, &d.and_hms_opt(0, 0, 0).unwrap());
    secportal::app::notify::run_once(&app.state, nine)
        .await
        .unwrap()
        .org_digests
}

/// The day `n` days from today (Japan), as a form takes it.
fn day(n: i64) -> String {
    (secportal::web::page::today() + chrono::Duration::days(n)).to_string()
}

/// An organisation (its id) and the Center's reviewer, signed in, to issue its requests.
async fn org_and_reviewer(app: &crate::helpers::TestApp) -> (String, crate::helpers::Browser<'_>) {
    let (org, _) = setup(app).await;
    let reviewer = app.new_browser();
    reviewer.login("reviewer@center.example.jp", PASSWORD).await;
    (org, reviewer)
}

dual_test!(
    reminders_wait_for_a_request_window_and_announce_its_opening_once,
    |app| async move {
        let (org, reviewer) = org_and_reviewer(&app).await;
        // In-house measures: uploads from day 3, due on day 20. Gateway logs: from day 2, due
        // on day 6.
        for fields in [
            vec![
                ("item_key", "inhouse_measures".to_string()),
                ("opens_on", day(3)),
                ("due_date", day(20)),
            ],
            vec![
                ("item_key", "gateway_logs".to_string()),
                ("period_from", "2026-10-01".to_string()),
                ("period_to", "2026-10-31".to_string()),
                ("opens_on", day(2)),
                ("due_date", day(6)),
            ],
        ] {
            let f: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let res = reviewer.post(&format!("/orgs/{org}/requests"), &f).await;
            assert_eq!(res.status(), StatusCode::SEE_OTHER);
        }
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let run = |n: i64| digests(&app, n);
        // Today and tomorrow neither window is open: no reminder, though the logs are due
        // within 7 days.
        assert_eq!(run(0).await, 0, "no reminder before a window opens");
        assert_eq!(run(1).await, 0);
        // Day 2: the logs' window opens four days before they are due — the due reminder,
        // naming the window.
        let before = app.mail_count();
        assert_eq!(run(2).await, 1);
        assert_eq!(app.mail_count() - before, 1);
        let text = app.mail_text("kanri@a.example.jp", "受付が始まった");
        assert!(
            text.contains(&format!("（あと 4 日） 受付期間: {} 〜 {}", day(2), day(6))),
            "the due reminder names the window: {text}"
        );
        assert!(
            text.contains(&format!(
                "(days left: 4) Uploads accepted from {} to {}",
                day(2),
                day(6)
            )),
            "in English too: {text}"
        );
        assert!(
            text.contains("7.4.1(6)") && !text.contains("7.4.1(5)"),
            "the in-house request is not open yet: {text}"
        );
        // Day 3: the in-house window opens, due in 17 days — one notice that it opened; the
        // logs were reminded already.
        assert_eq!(run(3).await, 1);
        let text = app.mail_text("kanri@a.example.jp", "受付を開始しました");
        assert!(
            text.contains(&format!(
                "（受付を開始しました） 受付期間: {} 〜 {}",
                day(3),
                day(20)
            )) && text.contains("(uploads are now open)"),
            "{text}"
        );
        assert!(
            text.contains("7.4.1(5)") && !text.contains("7.4.1(6)"),
            "only the new item: {text}"
        );
        // Day 4: nothing new; day 13 (7 days before): the in-house request's due reminder.
        assert_eq!(run(4).await, 0);
        assert_eq!(run(13).await, 1);
        let text = app.mail_text("kanri@a.example.jp", "（あと 7 日）");
        assert!(text.contains(&day(20)), "{text}");
    }
);

dual_test!(
    a_request_open_from_the_day_it_is_issued_is_not_announced_as_opened_again,
    |app| async move {
        let (org, reviewer) = org_and_reviewer(&app).await;
        let res = reviewer
            .post(
                &format!("/orgs/{org}/requests"),
                &[
                    ("item_key", "inhouse_measures"),
                    ("opens_on", &day(0)),
                    ("due_date", &day(20)),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        // The request's own mail said uploads are open: no 「受付を開始しました」 after it.
        for n in [0, 1] {
            assert_eq!(digests(&app, n).await, 0, "day {n}");
        }
        // Its due reminder still comes, 7 days before.
        assert_eq!(digests(&app, 13).await, 1);
    }
);
