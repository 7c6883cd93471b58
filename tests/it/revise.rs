//! Revising a returned form (items 1, 2 and §7.4.2(1)) on its revision page: what is refused
//! changes nothing, the page is the organisation's own, and one confirmation seals one version.

use reqwest::StatusCode;
use secportal::db::on_db;

use crate::dual_test;
use crate::helpers::{PASSWORD, TestApp, location};
use crate::report_data::{EMAIL, Org, narita};

/// The office's administrator, 山田 太郎, with this title (役職), as the form posts it.
fn yamada(title: &str) -> [(&str, &str); 7] {
    [
        ("name", "山田 太郎"),
        ("name_kana", "ヤマダ タロウ"),
        ("department", "通関部"),
        ("title", title),
        ("phone", "0476-32-1234"),
        ("email", EMAIL),
        ("effective_from", "2026-04-01"),
    ]
}

/// The office's appointment, notified and returned; answers (returned id, revision draft id).
async fn returned_appointment(app: &TestApp, org: &Org) -> (String, String) {
    let res = app
        .post(
            &format!("/orgs/{}/locations/{}/appointments", org.id, org.office),
            &yamada("課長"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let first = location(&res).split('/').nth(4).unwrap().to_string();
    let reviewer = app.new_browser();
    reviewer.login("shinsa@naccs.example.jp", PASSWORD).await;
    let res = reviewer
        .post(
            &format!("/review/{first}/decide"),
            &[
                ("decision", "returned"),
                ("reason", "役職を確認してください。"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = app
        .post(&format!("/orgs/{}/submissions/{first}/revise", org.id), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let edit = location(&res);
    assert!(edit.ends_with("/edit"), "{edit}");
    let draft = edit.split('/').nth(4).unwrap().to_string();
    (first, draft)
}

async fn draft_data(app: &TestApp, id: &str) -> (String, String) {
    let id: uuid::Uuid = id.parse().unwrap();
    on_db!(app.db(), p => sqlx::query_as("SELECT state, data FROM submissions WHERE id = $1")
        .bind(id)
        .fetch_one(p)
        .await)
    .unwrap()
}

dual_test!(
    while_a_returned_appointment_is_revised_a_new_one_there_and_a_wrong_correction_are_refused_and_change_nothing,
    |app| async move {
        let org = narita(&app).await;
        let (first, draft) = returned_appointment(&app, &org).await;
        let (submissions, appointments, audit) = (
            app.count("submissions").await,
            app.count("appointments").await,
            app.count("audit_log").await,
        );

        // The location's own form: the revision is what to submit.
        let res = app
            .post(
                &format!("/orgs/{}/locations/{}/appointments", org.id, org.office),
                &[
                    ("name", "佐藤 花子"),
                    ("name_kana", "サトウ ハナコ"),
                    ("department", "通関部"),
                    ("phone", "0476-32-9999"),
                    ("email", "sato@narita-boeki.example.jp"),
                    ("effective_from", "2026-05-01"),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(res.text().await.unwrap().contains("差し戻された版の修正中です"));

        // A correction with a required field emptied: told on the field, nothing saved.
        let before = draft_data(&app, &draft).await;
        let res = app
            .post(
                &format!("/orgs/{}/submissions/{draft}/edit", org.id),
                &[("name", ""), ("name_kana", "ヤマダ タロウ"), ("department", "通関部"),
                  ("phone", "0476-32-1234"), ("email", EMAIL), ("effective_from", "2026-04-01")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = res.text().await.unwrap();
        assert!(html.contains("aria-invalid=\"true\"") && html.contains("役職を確認してください。"));
        assert_eq!(draft_data(&app, &draft).await, before);
        assert_eq!(
            (app.count("submissions").await, app.count("appointments").await, app.count("audit_log").await),
            (submissions, appointments, audit)
        );

        // Another organisation never sees the revision; its receipt page is not theirs either.
        app.add_user("other@example.jp", "org_admin", Some("ZZZ01")).await;
        let other = app.new_browser();
        other.login("other@example.jp", PASSWORD).await;
        for path in [
            format!("/orgs/{}/submissions/{draft}/edit", org.id),
            format!("/orgs/{}/submissions/{draft}/confirm", org.id),
        ] {
            assert_eq!(other.get(&path).await.status(), StatusCode::NOT_FOUND, "{path}");
        }
        let res = other
            .post(&format!("/orgs/{}/submissions/{first}/revise", org.id), &[])
            .await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);

        // Saved and confirmed twice: one version 2, one new appointment, one receipt.
        let fields = yamada("部長");
        let res = app
            .browser()
            .post_unconfirmed(&format!("/orgs/{}/submissions/{draft}/edit", org.id), &fields)
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let confirm = location(&res);
        assert!(confirm.ends_with("/confirm"), "{confirm}");
        let a = app.browser().confirm(&confirm).await;
        let b = app.browser().confirm(&confirm).await;
        assert_eq!(location(&a), format!("/orgs/{}/submissions/{draft}/receipt", org.id));
        assert_eq!(b.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&b), location(&a));
        let (state, data) = draft_data(&app, &draft).await;
        assert_eq!(state, "submitted");
        let data: serde_json::Value = serde_json::from_str(&data).unwrap();
        assert_eq!(data["title"], "部長");
        assert!(data["appointment_id"].is_string(), "the sealed report names its appointment");
        assert_eq!(app.count("appointments").await, appointments + 1);
        assert_eq!(app.count("submissions").await, submissions);
        assert_eq!(app.audit_count("appointment.notified").await, 2);
        // The location's history names the corrected appointment with its receipt.
        let page = app
            .get(&format!("/orgs/{}/locations/{}", org.id, org.office))
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains(&format!("/submissions/{draft}/receipt")), "{page}");
        // The revision page of a sealed version leads to its receipt.
        let res = app.get(&format!("/orgs/{}/submissions/{draft}/edit", org.id)).await;
        assert_eq!(location(&res), format!("/orgs/{}/submissions/{draft}/receipt", org.id));
    }
);

dual_test!(
    a_returned_id_declaration_shows_why_on_its_page_and_is_corrected_as_its_next_version,
    |app| async move {
        let org = narita(&app).await;
        let o = &org.id;
        let ids_field = format!("ids_{}", org.office);
        let fields = [
            ("attest", "yes"),
            (ids_field.as_str(), "NRT01001\nNRT01002"),
        ];
        let res = app.post(&format!("/orgs/{o}/id-management"), &fields).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let first = location(&res).split('/').nth(4).unwrap().to_string();
        let page = app
            .get(&format!("/orgs/{o}/id-management"))
            .await
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("（提出済み）"),
            "the last declaration's state is named"
        );
        assert!(page.contains("確認へ進む"));
        assert!(!page.contains("/revise\""), "nothing to revise yet");

        let reviewer = app.new_browser();
        reviewer.login("shinsa@naccs.example.jp", PASSWORD).await;
        let res = reviewer
            .post(
                &format!("/review/{first}/decide"),
                &[
                    ("decision", "returned"),
                    ("reason", "倉庫で使う利用者IDが漏れています。"),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);

        // The page says why, offers the correction, and no longer submits a second declaration.
        let page = app
            .get(&format!("/orgs/{o}/id-management"))
            .await
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("倉庫で使う利用者IDが漏れています。"),
            "{page}"
        );
        assert!(page.contains("（差戻し）"));
        assert!(page.contains(&format!("action=\"/orgs/{o}/submissions/{first}/revise\"")));
        assert!(page.contains("<fieldset class=\"plain\" disabled>"));
        assert!(!page.contains("確認へ進む"));

        // The button opens the revision; the page then leads to it, and the form posted
        // anyway (an old tab) adds nothing.
        let res = app
            .post(&format!("/orgs/{o}/submissions/{first}/revise"), &[])
            .await;
        let draft = location(&res).split('/').nth(4).unwrap().to_string();
        let page = app
            .get(&format!("/orgs/{o}/id-management"))
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("倉庫で使う利用者IDが漏れています。"));
        assert!(
            page.contains(&format!("href=\"/orgs/{o}/submissions/{draft}/edit\"")),
            "{page}"
        );
        assert!(page.contains("修正を続ける"));
        let before = app.count("submissions").await;
        let res = app.post(&format!("/orgs/{o}/id-management"), &fields).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(app.count("submissions").await, before);

        // In English too, with no locale key shown.
        app.post("/lang", &[("lang", "en")]).await;
        let page = app
            .get(&format!("/orgs/{o}/id-management"))
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("Continue revising") && !page.contains("idm.revision_open"));
    }
);

dual_test!(
    the_one_step_forms_are_shown_as_they_will_be_sent_then_sealed_once_however_often_pressed,
    |app| async move {
        let org = narita(&app).await;
        let o = &org.id;
        let path = format!("/orgs/{o}/locations/{}/appointments", org.office);
        let fields = yamada("課長");
        // The form's button shows the 確認 page: the notice in the receipt's words, nothing
        // stored yet.
        let res = app.browser().post_unconfirmed(&path, &fields).await;
        assert_eq!(res.status(), StatusCode::OK);
        let page = res.text().await.unwrap();
        assert!(page.contains("提出内容の確認") && page.contains("まだ届け出ていません"));
        assert!(
            page.contains("ヤマダ タロウ") && page.contains("成田営業所"),
            "{page}"
        );
        assert_eq!(app.count("submissions").await, 0);
        assert_eq!(app.count("appointments").await, 0);

        // 戻って修正する: the form again, as typed, nothing stored.
        let carried = crate::helpers::form_confirm_fields(&page).expect("the 確認 form");
        let mut back: Vec<(&str, &str)> = carried
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        back.push(("step", "back"));
        // The 確認 page has a note for the Center; typed there and taken back to the form, it
        // is kept for the next 確認.
        assert!(page.contains("name=\"note\"") && page.contains("審査担当者への連絡"));
        let note = "前任者の退職に伴う交代です。";
        back.push(("note", note));
        let res = app.browser().post_raw(&path, &back).await;
        assert_eq!(res.status(), StatusCode::OK);
        let form = res.text().await.unwrap();
        assert!(!form.contains("data-form-confirm") && form.contains("value=\"ヤマダ タロウ\""));
        assert!(
            form.contains(&format!("name=\"note\" value=\"{note}\"")),
            "{form}"
        );
        // The page opens at the form it came back to (its heading takes the focus).
        assert!(
            form.contains("<h3 id=\"appoint-form\" tabindex=\"-1\" data-return-here>"),
            "{form}"
        );
        assert_eq!(app.count("submissions").await, 0);
        // A note longer than a comment may be is not sealed: the 確認 page again, saying so.
        let long = "あ".repeat(4001);
        let mut too_long: Vec<(&str, &str)> = carried
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        too_long.extend([("note", long.as_str()), ("step", "submit")]);
        let res = app.browser().post_raw(&path, &too_long).await;
        assert_eq!(res.status(), StatusCode::OK);
        let again = res.text().await.unwrap();
        assert!(
            again.contains("data-form-confirm") && again.contains("confirm-note-error"),
            "{again}"
        );
        assert_eq!(app.count("submissions").await, 0);

        // この内容で提出する, pressed twice: one appointment, one receipt, both presses led to it.
        let mut submit: Vec<(&str, &str)> = carried
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        submit.extend([("step", "submit"), ("note", note)]);
        let a = app.browser().post_raw(&path, &submit).await;
        let b = app.browser().post_raw(&path, &submit).await;
        assert_eq!(a.status(), StatusCode::SEE_OTHER);
        assert_eq!(b.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&a), location(&b));
        assert!(location(&a).ends_with("/receipt"));
        assert_eq!(app.count("submissions").await, 1);
        // The note went with it as its first comment, once.
        assert_eq!(app.count("comments").await, 1);
        let receipt = app.html(&location(&a)).await;
        assert!(receipt.contains(note), "{receipt}");
        assert_eq!(app.count("appointments").await, 1);
        assert_eq!(app.audit_count("appointment.notified").await, 1);
        // The 確認 page reloaded after the seal (the check posted again, with the key the
        // form carried: the browser's back button, a reload) is the receipt it sealed, not a
        // 確認 page calling it another filing; submitted again, the same receipt.
        let again: Vec<(&str, &str)> = carried
            .iter()
            .filter(|(k, _)| k != "csrf_token")
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let res = app.browser().post_unconfirmed(&path, &again).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&res), location(&a));
        let key = |f: &[(String, String)]| f.iter().find(|(k, _)| k == "submit_key").cloned();
        let c = app.post(&path, &again).await;
        assert_eq!(location(&c), location(&a));
        assert_eq!(app.count("submissions").await, 1);
        // The location page's form carries a key of its own for the next filing.
        let office_page = format!("/orgs/{o}/locations/{}", org.office);
        let page = app.html(&office_page).await;
        assert!(
            !page.contains("data-return-here"),
            "a page opened afresh opens at its top"
        );
        let fresh = crate::helpers::field_value(&page, "submit_key").unwrap();
        assert_ne!(Some(fresh), key(&carried).map(|k| k.1));

        // The ID declaration and the router's ports take the same step.
        let ids_field = format!("ids_{}", org.office);
        let res = app
            .browser()
            .post_unconfirmed(
                &format!("/orgs/{o}/id-management"),
                &[("attest", "yes"), (ids_field.as_str(), "NRT01001")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        let page = res.text().await.unwrap();
        assert!(page.contains("data-form-confirm") && page.contains("NRT01001"));
        let res = app
            .browser()
            .post_unconfirmed(
                &format!("/orgs/{o}/locations/{}/router", org.office),
                &crate::helpers::ROUTER_OK,
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        let page = res.text().await.unwrap();
        assert!(
            page.contains("data-form-confirm") && page.contains("NRT-R-001"),
            "{page}"
        );
        assert_eq!(app.count("submissions").await, 1);

        // A key that is not one this server made seals under a new id, once per press.
        let mut forged: Vec<(&str, &str)> = submit
            .iter()
            .map(|(k, v)| {
                if *k == "submit_key" {
                    (*k, "00000000-0000-4000-8000-000000000000")
                } else {
                    (*k, *v)
                }
            })
            .collect();
        forged.retain(|(k, _)| *k != "csrf_token");
        let res = app.post(&path, &forged).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_ne!(location(&res), location(&a));

        // The appointment's sealed key posted with the router's form (two forms of one page
        // sharing a key, or a key sent from elsewhere) is no repeat of the appointment: the
        // attestation is sealed on its own and its own receipt shown.
        let sealed_key = key(&carried).unwrap().1;
        let notified = app.audit_count("appointment.notified").await;
        let mut router: Vec<(&str, &str)> = crate::helpers::ROUTER_OK.to_vec();
        router.extend([("submit_key", sealed_key.as_str()), ("step", "submit")]);
        let res = app
            .browser()
            .post_unconfirmed(
                &format!("/orgs/{o}/locations/{}/router", org.office),
                &router,
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_ne!(location(&res), location(&a));
        assert_eq!(app.audit_count("router.attested").await, 1);
        assert_eq!(app.audit_count("appointment.notified").await, notified);
        // The page gives its two forms a key each.
        let page = app.html(&office_page).await;
        let keys: Vec<&str> = page
            .split("name=\"submit_key\" value=\"")
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
            .collect();
        assert_eq!(keys.len(), 2, "the router's and the appointment's forms");
        assert_ne!(keys[0], keys[1]);

        // In English, the 確認 page's words are English.
        app.browser().to_english().await;
        let res = app.browser().post_unconfirmed(&path, &fields).await;
        let page = res.text().await.unwrap();
        assert!(page.contains("Nothing has been sent yet") && !page.contains("confirm.intro_form"));
    }
);

dual_test!(
    a_discarded_correction_leads_back_to_the_returned_report_and_its_stale_page_to_the_reports,
    |app| async move {
        let org = narita(&app).await;
        let (first, draft) = returned_appointment(&app, &org).await;
        let edit = format!("/orgs/{}/submissions/{draft}/edit", org.id);
        let discard = format!("/orgs/{}/submissions/{draft}/discard", org.id);
        let res = app.post(&discard, &[("back", edit.as_str())]).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            location(&res),
            format!("/orgs/{}/submissions/{first}/receipt", org.id)
        );
        // A second click in another tab lands on the page it was on, which is gone: the
        // organisation's reports, saying so.
        let res = app.post(&discard, &[("back", edit.as_str())]).await;
        assert_eq!(location(&res), edit);
        let res = app.get(&edit).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let to = location(&res);
        assert_eq!(to, format!("/orgs/{}/submissions", org.id));
        assert!(
            app.html(&to)
                .await
                .contains("この下書きはすでに提出されたか、破棄されています。")
        );
    }
);
