//! Browser journey for revising a returned form (issue 8 item 4): an organisation whose
//! administrator appointment (item 1) came back opens it from its receipt, reads why (the
//! reason with its line breaks and the Center's comment, the Center unnamed), corrects the
//! title, goes through the 確認 step and resubmits; the reviewer has version 2.

use reqwest::StatusCode;

use crate::browser::{browser, chromedriver, click, fill, login, screenshot, wait_for_text};
use crate::browser_renewal::confirm_submission;
use crate::helpers::{PASSWORD, TestApp, backends, location};
use crate::report_data::{EMAIL, narita};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_returned_appointment_is_revised_through_the_confirmation_and_resubmitted() {
    let Some(driver) = chromedriver() else {
        return;
    };
    for backend in backends() {
        let label = backend.label();
        let app = TestApp::spawn(backend).await;
        let org = narita(&app).await;
        let o = &org.id;
        let res = app
            .post(
                &format!("/orgs/{o}/locations/{}/appointments", org.office),
                &[
                    ("name", "山田 太郎"),
                    ("name_kana", "ヤマダ タロウ"),
                    ("department", "通関部"),
                    ("title", "課長"),
                    ("phone", "0476-32-1234"),
                    ("emergency_contact", "090-1234-5678"),
                    ("email", EMAIL),
                    ("effective_from", "2026-04-01"),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let receipt = location(&res);
        let first = receipt.split('/').nth(4).unwrap().to_string();
        let reviewer = app.new_browser();
        reviewer.login("shinsa@naccs.example.jp", PASSWORD).await;
        let res = reviewer
            .post(
                &format!("/review/{first}/comments"),
                &[("body", "辞令の日付も確認してください。")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let res = reviewer
            .post(
                &format!("/review/{first}/decide"),
                &[
                    ("decision", "returned"),
                    (
                        "reason",
                        "役職が社内の辞令と違います。\n正しい役職で届け出てください。",
                    ),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);

        let profile = tempfile::tempdir().unwrap();
        let c = browser(&driver, profile.path()).await;
        c.set_window_size(1366, 1400).await.unwrap();
        login(&c, &app, EMAIL).await;
        wait_for_text(&c, "ログアウト").await;

        // The receipt of the returned appointment offers the revision.
        c.goto(&app.url(&receipt)).await.unwrap();
        wait_for_text(&c, "修正して再提出する").await;
        screenshot(&c, &format!("revise-receipt-returned-{label}")).await;
        click(&c, "form[action$='/revise'] button[type='submit']").await;

        // The revision page: why, with its line break, the comment, the Center unnamed.
        wait_for_text(&c, "差し戻された届出の修正").await;
        let shown = c
            .execute(
                "return document.querySelector('.returned-note').innerText;",
                vec![],
            )
            .await
            .unwrap();
        let shown = shown.as_str().unwrap();
        assert!(
            shown.contains("役職が社内の辞令と違います。\n正しい役職で届け出てください。"),
            "{shown}"
        );
        assert!(
            shown.contains("辞令の日付も確認してください。") && shown.contains("NACCS センター")
        );
        assert!(!shown.contains("審査 花子"), "{shown}");
        c.set_window_size(1366, 1500).await.unwrap();
        c.execute("window.scrollTo(0, 0);", vec![]).await.unwrap();
        screenshot(&c, &format!("revise-appointment-{label}")).await;
        c.set_window_size(320, 1400).await.unwrap();
        c.execute("window.scrollTo(0, 0);", vec![]).await.unwrap();
        screenshot(&c, &format!("revise-appointment-320-{label}")).await;
        c.set_window_size(1366, 1400).await.unwrap();

        // A required field emptied: told on the field, nothing saved.
        fill(&c, "name", " ").await;
        click(&c, "button[name='action'][value='submit']").await;
        wait_for_text(&c, "aria-invalid=\"true\"").await;
        screenshot(&c, &format!("revise-appointment-errors-{label}")).await;

        fill(&c, "name", "山田 太郎").await;
        fill(&c, "title", "部長").await;
        click(&c, "button[name='action'][value='submit']").await;
        wait_for_text(&c, "提出内容の確認").await;
        wait_for_text(&c, "部長").await;
        screenshot(&c, &format!("revise-appointment-confirm-{label}")).await;
        confirm_submission(&c).await;
        wait_for_text(&c, "次の内容で NACCS センターが受け付けました").await;
        let html = c.source().await.unwrap();
        assert!(html.contains("部長") && !html.contains("審査 花子"));
        screenshot(&c, &format!("revise-appointment-receipt-{label}")).await;
        let second = c
            .current_url()
            .await
            .unwrap()
            .path()
            .split('/')
            .nth(4)
            .unwrap()
            .to_string();
        assert_ne!(second, first);

        // The reviewer has version 2, compared with version 1 in words.
        let page = reviewer
            .get(&format!("/review/{second}"))
            .await
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("第1版からの変更点") && page.contains("<del>課長</del>"),
            "{page}"
        );
        let ids: Vec<uuid::Uuid> = [&first, &second]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        let assignees: Vec<Option<uuid::Uuid>> =
            secportal::db::on_db!(app.db(), p => sqlx::query_scalar(
            "SELECT assigned_to FROM submissions WHERE id = $1 OR id = $2 ORDER BY version",
        )
        .bind(ids[0])
        .bind(ids[1])
        .fetch_all(p)
        .await)
            .unwrap();
        let hanako = secportal::db::users::by_email(app.db(), "shinsa@naccs.example.jp")
            .await
            .unwrap()
            .unwrap()
            .id;
        assert_eq!(
            assignees,
            vec![None, Some(hanako)],
            "the reviewer who returned version 1 has version 2"
        );
        c.close().await.unwrap();
    }
}
