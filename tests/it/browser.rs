//! Browser journeys in headless Chromium (run when SECPORTAL_TEST_CHROMEDRIVER is set).

use std::time::Duration;

use crate::wd::{Client, Locator};

use crate::helpers::{PASSWORD, TestApp, backends};

/// The chromedriver to drive, or `None` (and a note) when the journeys are to be skipped.
pub(crate) fn chromedriver() -> Option<String> {
    let driver = std::env::var("SECPORTAL_TEST_CHROMEDRIVER")
        .ok()
        .filter(|s| !s.is_empty());
    if driver.is_none() {
        eprintln!("SECPORTAL_TEST_CHROMEDRIVER not set: browser journey skipped");
    }
    driver
}

pub(crate) async fn browser(driver: &str, profile: &std::path::Path) -> Client {
    let mut caps = serde_json::Map::new();
    let args = serde_json::json!([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--no-first-run",
        "--window-size=1280,900",
        "--lang=ja",
        format!("--user-data-dir={}", profile.display()),
    ]);
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({ "args": args, "prefs": { "intl.accept_languages": "ja,en" } }),
    );
    Client::connect(driver, serde_json::Value::Object(caps))
        .await
        .expect("connect to chromedriver")
}

/// Types `value` into the field `name`, and checks it arrived: a PDF preview that finishes
/// loading meanwhile can take the focus away mid-typing, so type again until it holds.
pub(crate) async fn fill(c: &Client, name: &str, value: &str) {
    fill_css(c, &format!("[name='{name}']"), value).await;
}

/// [`fill`] for the field `css` selects.
async fn fill_css(c: &Client, css: &str, value: &str) {
    let el = c.find(Locator::Css(css)).await.unwrap();
    for _ in 0..10 {
        el.clear().await.unwrap();
        el.send_keys(value).await.unwrap();
        if el.prop("value").await.unwrap().as_deref() == Some(value) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("{css} would not take {value:?}");
}

pub(crate) async fn submit(c: &Client) {
    c.find(Locator::Css("main form button[type='submit']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

/// Waits for `text` in the page. CI runs every test at once on two cores, so a form post
/// can take seconds: wait up to 30 s, and on failure say where the browser is and what the
/// page says (messages first), not the page's head.
pub(crate) async fn wait_for_text(c: &Client, text: &str) {
    for _ in 0..300 {
        if c.source().await.unwrap().contains(text) {
            crate::axe::check(c).await;
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let url = c
        .current_url()
        .await
        .map(|u| u.to_string())
        .unwrap_or_default();
    let shown = c
        .execute(
            "var m = Array.from(document.querySelectorAll('.flash, .form-error, .field-error')).map(function (e) { return e.innerText; }).join(' | ');\
             var main = document.querySelector('main');\
             return m + ' || ' + (main ? main.innerText : document.body.innerText);",
            vec![],
        )
        .await
        .map(|v| v.as_str().unwrap_or_default().to_string())
        .unwrap_or_default();
    panic!("page never showed {text:?} at {url}: {shown}");
}

/// Chooses a radio button or checkbox and makes sure it took.
pub(crate) async fn choose(c: &Client, css: &str) {
    for _ in 0..50 {
        let el = c.find(Locator::Css(css)).await.unwrap();
        if el.is_selected().await.unwrap() {
            return;
        }
        el.click().await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{css} could not be chosen");
}

/// A real one-page PDF showing `text` (ASCII), so a preview has something to show.
fn one_page_pdf(text: &str) -> Vec<u8> {
    let stream = format!("BT /F1 28 Tf 72 720 Td ({text}) Tj ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>".to_string(),
        format!("<< /Length {} >>\nstream\n{stream}\nendstream", stream.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_string(),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = vec![];
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

pub(crate) async fn screenshot(c: &Client, name: &str) {
    let png = c.screenshot().await.unwrap();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
}

pub(crate) async fn login(c: &Client, app: &TestApp, email: &str) {
    c.goto(&app.url("/login")).await.unwrap();
    fill(c, "email", email).await;
    fill(c, "password", PASSWORD).await;
    submit(c).await;
}

/// Signs out and waits until the sign-in page says so: a `login` right after must not meet
/// the old session (its /login would answer the home page).
async fn logout(c: &Client) {
    c.find(Locator::Css("header form[action='/logout'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(c, "ログアウトしました").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_then_invite_an_org_admin_who_accepts_and_signs_in() {
    let Some(driver) = chromedriver() else {
        return;
    };
    for backend in backends() {
        let label = backend.label();
        let app = TestApp::spawn(backend).await;
        let profile = tempfile::tempdir().unwrap();
        let c = browser(&driver, profile.path()).await;

        // First-run setup from the logged link.
        let link = secportal::app::onboarding::setup_link_if_needed(&app.state)
            .await
            .unwrap()
            .unwrap();
        c.goto(&link).await.unwrap();
        wait_for_text(&c, "初期設定").await;
        fill(&c, "email", "boss@center.example.jp").await;
        fill(&c, "display_name", "センター 管理者").await;
        fill(&c, "password", PASSWORD).await;
        fill(&c, "password_confirm", PASSWORD).await;
        submit(&c).await;
        wait_for_text(&c, "センター管理者を作成しました").await;

        login(&c, &app, "boss@center.example.jp").await;
        wait_for_text(&c, "センター管理").await;

        // Register an organisation and invite its org admin.
        c.goto(&app.url("/admin/orgs/new")).await.unwrap();
        fill(&c, "name", "株式会社　横浜通関").await;
        fill(&c, "user_code", "YK001").await;
        fill(&c, "admin_email", "kanri@yokohama.example.jp").await;
        submit(&c).await;
        wait_for_text(&c, "招待メールを送信しました").await;
        wait_for_text(&c, "kanri@yokohama.example.jp").await;
        logout(&c).await;

        // Accept from the mail file.
        let link = app
            .mail_link("kanri@yokohama.example.jp", "/invitations/accept?token=")
            .expect("invitation mail");
        c.goto(&link).await.unwrap();
        wait_for_text(&c, "招待の受諾").await;
        fill(&c, "display_name", "横浜 花子").await;
        fill(&c, "password", PASSWORD).await;
        fill(&c, "password_confirm", PASSWORD).await;
        submit(&c).await;
        wait_for_text(&c, "アカウントの設定が完了しました").await;

        login(&c, &app, "kanri@yokohama.example.jp").await;
        wait_for_text(&c, "横浜 花子").await;
        wait_for_text(&c, "株式会社　横浜通関").await;
        screenshot(&c, &format!("invited-org-admin-home-{label}")).await;

        // The language switch works without JavaScript state.
        c.find(Locator::Css("form.lang button"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_for_text(&c, "Sign out").await;
        c.close().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn org_admin_builds_the_structure_and_appoints_administrators_then_the_center_sees_the_matrix()
 {
    let Some(driver) = chromedriver() else {
        return;
    };
    for backend in backends() {
        let label = backend.label();
        let app = TestApp::spawn(backend).await;
        app.add_user("kanri@yokohama.example.jp", "org_admin", Some("YK001"))
            .await;
        app.add_user("boss@center.example.jp", "center_admin", None)
            .await;
        let profile = tempfile::tempdir().unwrap();
        let c = browser(&driver, profile.path()).await;
        login(&c, &app, "kanri@yokohama.example.jp").await;
        wait_for_text(&c, "報告項目チェックリスト").await;
        c.find(Locator::Css("main a.structure-link"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_for_text(&c, "事業所・設置場所の登録").await;

        // Two offices and a gateway site, each with a connection.
        for (kind, name, form) in [
            ("office", "本社", "router"),
            ("office", "大阪支店", "router"),
            ("gateway_site", "本社サーバ室", "gateway"),
        ] {
            let org_page = c.current_url().await.unwrap();
            // From a location page, or from the receipt an appointment lands on.
            let org_path = org_page
                .path()
                .split("/locations")
                .next()
                .and_then(|p| p.split("/submissions").next())
                .unwrap()
                .to_string();
            c.goto(&app.url(&org_path)).await.unwrap();
            c.find(Locator::Css(&format!("input[name='kind'][value='{kind}']")))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
            if kind == "gateway_site" {
                let select = c
                    .find(Locator::Css("select[name='office_id']"))
                    .await
                    .unwrap();
                select.select_by_label("本社").await.unwrap();
            }
            fill(&c, "name", name).await;
            fill(&c, "address", "神奈川県横浜市中区1-1").await;
            c.find(Locator::Css(
                "form[action$='/locations'] button[type='submit']",
            ))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
            wait_for_text(&c, "登録しました").await;
            c.find(Locator::Css("select[name='form']"))
                .await
                .unwrap()
                .select_by_value(form)
                .await
                .unwrap();
            c.find(Locator::Css(
                "form[action$='/connections'] button[type='submit']",
            ))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
            wait_for_text(&c, "NACCS との接続を登録しました").await;
            if name != "大阪支店" {
                fill(&c, "name", name).await;
                for (field, value) in [
                    ("name", "横浜　花子"),
                    ("name_kana", "ヨコハマ　ハナコ"),
                    ("department", "業務部"),
                    ("phone", "045-123-4567"),
                    ("email", "hanako@yokohama.example.jp"),
                ] {
                    fill_css(
                        &c,
                        &format!("form[action$='/appointments'] [name='{field}']"),
                        value,
                    )
                    .await;
                }
                c.find(Locator::Css(
                    "form[action$='/appointments'] button[type='submit']",
                ))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
                // The 確認 page shows the notice as it will be sent; submitted from there.
                wait_for_text(&c, "提出内容の確認").await;
                assert!(c.source().await.unwrap().contains("ヨコハマ　ハナコ"));
                screenshot(&c, &format!("appointment-confirm-{label}")).await;
                c.find(Locator::Css(
                    "form[data-form-confirm] button[value='submit']",
                ))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
                wait_for_text(&c, "提出しました。受付票を印刷して保管してください。").await;
                // Back from the receipt opens the location page again (a plain address), not
                // the browser's offer to send the sealed post once more.
                c.back().await.unwrap();
                wait_for_text(&c, "/appointments\" novalidate").await;
                let back = c.source().await.unwrap();
                assert!(!back.contains("提出内容の確認"), "not the 確認 page again");
                assert!(
                    !back.contains("ERR_CACHE_MISS"),
                    "not the browser's resubmission page"
                );
            }
        }
        c.goto(&app.url("/home")).await.unwrap();
        wait_for_text(&c, "本社サーバ室").await;
        let html = c.source().await.unwrap();
        assert!(html.contains("7.4.1(6)"), "the gateway site owes item 6");
        screenshot(&c, &format!("org-checklist-{label}")).await;
        // On a phone-sized window the page still fits: wide tables scroll inside their card.
        c.set_window_size(390, 844).await.unwrap();
        let overflow = c
            .execute(
                "return document.documentElement.scrollWidth > window.innerWidth;",
                vec![],
            )
            .await
            .unwrap();
        screenshot(&c, &format!("org-checklist-narrow-{label}")).await;
        assert_eq!(
            overflow,
            serde_json::json!(false),
            "no sideways scrolling of the page"
        );
        c.set_window_size(1280, 900).await.unwrap();
        logout(&c).await;

        login(&c, &app, "boss@center.example.jp").await;
        wait_for_text(&c, "センター管理").await;
        c.goto(&app.url("/admin/matrix")).await.unwrap();
        wait_for_text(&c, "YK001").await;
        screenshot(&c, &format!("center-matrix-{label}")).await;
        c.close().await.unwrap();
    }
}

/// What the page's `note` field holds now.
async fn note_of(c: &Client) -> serde_json::Value {
    c.execute(
        "return document.querySelector('[name=note]').value;",
        vec![],
    )
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn org_admin_uploads_the_configuration_with_progress_and_prints_the_receipt() {
    let Some(driver) = chromedriver() else {
        return;
    };
    for backend in backends() {
        let label = backend.label();
        let app = TestApp::spawn(backend).await;
        app.add_user("kanri@yokohama.example.jp", "org_admin", Some("YK001"))
            .await;
        let org = app.org_of("kanri@yokohama.example.jp").await;
        let files = tempfile::tempdir().unwrap();
        let pdf = files.path().join("システム構成図.pdf");
        std::fs::write(&pdf, b"%PDF-1.7\n% test diagram\n%%EOF\n").unwrap();
        let old_pdf = files.path().join("旧構成図.pdf");
        std::fs::write(&old_pdf, b"%PDF-1.7\n% an outdated diagram\n%%EOF\n").unwrap();
        let csv = files.path().join("機器一覧.csv");
        std::fs::write(
            &csv,
            "機器種別,メーカー,型番,台数\nサーバ,富士通,PRIMERGY,2\n".as_bytes(),
        )
        .unwrap();
        let profile = tempfile::tempdir().unwrap();
        let c = browser(&driver, profile.path()).await;
        login(&c, &app, "kanri@yokohama.example.jp").await;
        wait_for_text(&c, "報告項目チェックリスト").await;
        c.goto(&app.url(&format!("/orgs/{org}/system-configuration")))
            .await
            .unwrap();
        wait_for_text(&c, "利用者側のシステム構成の提出").await;
        // Typed before the files are added: kept (saved as the draft before the upload).
        fill(&c, "note", "本社の構成（ブラウザ試験）").await;
        for (input, path, shown) in [
            ("files-diagram", &pdf, "システム構成図.pdf"),
            ("files-equipment_list", &csv, "機器一覧.csv"),
            ("files-diagram", &old_pdf, "旧構成図.pdf"),
        ] {
            let el = c.find(Locator::Id(input)).await.unwrap();
            el.send_keys(path.to_str().unwrap()).await.unwrap();
            let form = c
                .find(Locator::Css(&format!(
                    "form:has(#{input}) button[type='submit']"
                )))
                .await
                .unwrap();
            // upload.js sends the file itself, with a progress bar, and updates the list
            // without loading the page again: a mark left on the window survives, and the
            // finished bar is gone (the list and the flash say it).
            c.execute("window.__stayed = true;", vec![]).await.unwrap();
            form.click().await.unwrap();
            wait_for_text(&c, &format!(">{shown}</a>")).await;
            let done = c
                .execute(
                    "var p = document.querySelectorAll('.progress-list progress');\
                     return [window.__stayed === true, p.length === 0, location.pathname];",
                    vec![],
                )
                .await
                .unwrap();
            assert_eq!(
                done,
                serde_json::json!([true, true, format!("/orgs/{org}/system-configuration")]),
                "{input}: the upload went through upload.js"
            );
        }
        // The page's other enhancements work on the part swapped in after the uploads:
        // 「行を追加」 shows and adds a row to the equipment list (it did not, seen in a walk).
        let rows = "return [document.querySelector('button[data-add-row]').hidden, \
                    document.querySelectorAll('table.rows tbody tr').length];";
        let before = c.execute(rows, vec![]).await.unwrap();
        assert_eq!(before[0], false, "shown: {before}");
        c.find(Locator::Css("button[data-add-row]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let after = c.execute(rows, vec![]).await.unwrap();
        assert_eq!(
            after[1].as_u64().unwrap(),
            before[1].as_u64().unwrap() + 1,
            "{before} → {after}"
        );
        // A file of a type the field does not take: refused, and its bar gives way to a
        // struck-through name (a full bar read as done). What was typed before it is saved as
        // the draft first, and the page says so.
        fill(&c, "note", "本社の構成（ブラウザ試験・拒否の前）").await;
        let exe = files.path().join("setup.exe");
        std::fs::write(&exe, b"MZ\x90\x00 not a diagram").unwrap();
        c.find(Locator::Id("files-diagram"))
            .await
            .unwrap()
            .send_keys(exe.to_str().unwrap())
            .await
            .unwrap();
        c.find(Locator::Css(
            "form:has(#files-diagram) button[type='submit']",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
        wait_for_text(&c, "setup.exe：").await;
        wait_for_text(
            &c,
            "ファイルを添付する前に、入力した内容を下書きとして保存しました",
        )
        .await;
        let shown = c
            .execute(
                "var r = document.querySelector('.progress-list li.refused');\
                 return [!!r, r && getComputedStyle(r.querySelector('progress')).display, r && r.textContent];",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(
            shown,
            serde_json::json!([true, "none", "setup.exe "]),
            "the refused file is marked"
        );
        let kept = note_of(&c).await;
        assert_eq!(
            kept,
            serde_json::json!("本社の構成（ブラウザ試験・拒否の前）"),
            "what was typed outlived the uploads"
        );
        // In the page part upload.js swapped in, typing is still noticed by the language
        // switch, which asks before the page is left.
        fill(&c, "note", "本社の構成（ブラウザ試験・言語の前）").await;
        click(&c, "form.lang button").await;
        let asked = c.alert_text().await.unwrap();
        assert!(asked.contains("表示言語を切り替えると"), "{asked}");
        c.answer_alert(false).await.unwrap();
        // Typed, then a file removed (削除 loads the page again): what was typed is saved
        // first, and outlives it too.
        fill(&c, "note", "本社の構成（ブラウザ試験・削除の前に追記）").await;
        c.find(Locator::XPath(
            "//tr[td/a[text()='旧構成図.pdf']]//form[@data-keep-first]//button",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
        let mut gone = false;
        for _ in 0..100 {
            if !c.source().await.unwrap().contains(">旧構成図.pdf</a>") {
                gone = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(gone, "the outdated diagram was removed");
        wait_for_text(&c, "システム構成図.pdf").await;
        let kept = note_of(&c).await;
        assert_eq!(
            kept,
            serde_json::json!("本社の構成（ブラウザ試験・削除の前に追記）"),
            "what was typed outlived the removal"
        );
        c.find(Locator::Css("button[name='action'][value='submit']"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        crate::browser_renewal::confirm_submission(&c).await;
        // The draft page's hint mentions 受付番号 too; wait for the receipt's own sentence.
        wait_for_text(&c, "次の内容で NACCS センターが受け付けました").await;
        let html = c.source().await.unwrap();
        assert!(
            html.contains("SR-")
                && html.contains("システム構成図.pdf")
                && html.contains("機器一覧.csv")
        );
        screenshot(&c, &format!("receipt-{label}")).await;
        c.close().await.unwrap();
    }
}

pub(crate) async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

async fn set_value(c: &Client, id: &str, value: &str) {
    // Date inputs take their value in the locale's order when typed; set it directly.
    c.execute(
        "document.getElementById(arguments[0]).value = arguments[1];",
        vec![serde_json::json!(id), serde_json::json!(value)],
    )
    .await
    .unwrap();
}

async fn id_in_url(c: &Client, after: &str) -> String {
    let url = c.current_url().await.unwrap();
    url.path()
        .split(after)
        .nth(1)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_string()
}

async fn switch_user(c: &Client, app: &TestApp, email: &str) {
    logout(c).await;
    wait_for_text(c, "ログアウトしました").await;
    login(c, app, email).await;
    wait_for_text(c, "ログアウト").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submit_return_resubmit_accept_then_an_instruction_is_answered_and_closed() {
    let Some(driver) = chromedriver() else {
        return;
    };
    for backend in backends() {
        let label = backend.label();
        let app = TestApp::spawn(backend).await;
        app.add_user("kanri@yokohama.example.jp", "org_admin", Some("YK001"))
            .await;
        app.add_user("shinsa@center.example.jp", "reviewer", None)
            .await;
        let org = app.org_of("kanri@yokohama.example.jp").await;
        let files = tempfile::tempdir().unwrap();
        let pdf = files.path().join("構成図.pdf");
        std::fs::write(
            &pdf,
            one_page_pdf("System configuration v1: router, UTM, PCs"),
        )
        .unwrap();
        let csv = files.path().join("機器一覧.csv");
        std::fs::write(&csv, "機器種別,台数\nサーバ,2\n".as_bytes()).unwrap();
        let evidence = files.path().join("是正報告.pdf");
        std::fs::write(&evidence, b"%PDF-1.7\n% corrective action\n%%EOF\n").unwrap();
        let profile = tempfile::tempdir().unwrap();
        let c = browser(&driver, profile.path()).await;

        // The organisation submits its configuration.
        login(&c, &app, "kanri@yokohama.example.jp").await;
        wait_for_text(&c, "報告項目チェックリスト").await;
        c.goto(&app.url(&format!("/orgs/{org}/system-configuration")))
            .await
            .unwrap();
        wait_for_text(&c, "利用者側のシステム構成の提出").await;
        for (input, path, shown) in [
            ("files-diagram", &pdf, "構成図.pdf"),
            ("files-equipment_list", &csv, "機器一覧.csv"),
        ] {
            c.find(Locator::Id(input))
                .await
                .unwrap()
                .send_keys(path.to_str().unwrap())
                .await
                .unwrap();
            click(&c, &format!("form:has(#{input}) button[type='submit']")).await;
            wait_for_text(&c, &format!(">{shown}</a>")).await;
        }
        fill(&c, "note", "初版の構成").await;
        click(&c, "button[name='action'][value='submit']").await;
        crate::browser_renewal::confirm_submission(&c).await;
        wait_for_text(&c, "次の内容で NACCS センターが受け付けました").await;
        let first = id_in_url(&c, "/submissions/").await;

        // The reviewer returns it with a reason.
        switch_user(&c, &app, "shinsa@center.example.jp").await;
        c.goto(&app.url("/review")).await.unwrap();
        wait_for_text(&c, &format!("/review/{first}")).await;
        click(&c, &format!("a[href='/review/{first}']")).await;
        wait_for_text(&c, &format!("action=\"/review/{first}/decide\"")).await;
        choose(&c, "input[name='decision'][value='returned']").await;
        fill(&c, "reason", "ファイアウォールが構成図にありません。").await;
        click(&c, "form[action$='/decide'] button[type='submit']").await;
        wait_for_text(&c, "判定を登録しました").await;

        // The organisation revises and resubmits as version 2.
        switch_user(&c, &app, "kanri@yokohama.example.jp").await;
        c.goto(&app.url(&format!("/orgs/{org}/submissions/{first}/receipt")))
            .await
            .unwrap();
        wait_for_text(&c, "ファイアウォールが構成図にありません").await;
        click(&c, "form[action$='/revise'] button").await;
        wait_for_text(&c, "新しい版の下書きを作成しました").await;
        fill(&c, "note", "第2版: UTM を追加").await;
        click(&c, "button[name='action'][value='submit']").await;
        crate::browser_renewal::confirm_submission(&c).await;
        wait_for_text(&c, "次の内容で NACCS センターが受け付けました").await;
        let second = id_in_url(&c, "/submissions/").await;
        assert_ne!(first, second);

        // The reviewer sees the change from version 1 and accepts, then instructs.
        switch_user(&c, &app, "shinsa@center.example.jp").await;
        c.goto(&app.url(&format!("/review/{second}")))
            .await
            .unwrap();
        wait_for_text(&c, "第1版からの変更点").await;
        let html = c.source().await.unwrap();
        assert!(html.contains("初版の構成") && html.contains("第2版: UTM を追加"));
        screenshot(&c, &format!("review-diff-{label}")).await;
        // The diagram is previewed in the page; the structure follows.
        c.execute(
            "document.querySelector('iframe.preview').scrollIntoView();",
            vec![],
        )
        .await
        .unwrap();
        screenshot(&c, &format!("review-preview-{label}")).await;
        choose(&c, "input[name='decision'][value='accepted']").await;
        click(&c, "form[action$='/decide'] button[type='submit']").await;
        wait_for_text(&c, "判定を登録しました").await;
        click(&c, "a[href$='#instruct']").await;
        wait_for_text(&c, "に対する指示です").await;
        fill(&c, "problem", "UTM のファームウェアが古い版です。").await;
        fill(
            &c,
            "required_change",
            "最新版へ更新し、更新記録を提出すること。",
        )
        .await;
        let due = (secportal::web::page::today() + chrono::Duration::days(14)).to_string();
        set_value(&c, "f-i-due_date", &due).await;
        click(&c, "form[action$='/instructions'] button[type='submit']").await;
        wait_for_text(&c, "改善措置を指示しました").await;
        let instruction = id_in_url(&c, "/instructions/").await;

        // The organisation sees it on its checklist and answers with evidence.
        switch_user(&c, &app, "kanri@yokohama.example.jp").await;
        c.goto(&app.url("/home")).await.unwrap();
        wait_for_text(&c, "改善措置対応中").await;
        click(
            &c,
            &format!("a[href='/orgs/{org}/instructions/{instruction}']"),
        )
        .await;
        wait_for_text(&c, "是正措置の報告").await;
        fill(&c, "body", "UTM を最新版へ更新しました。").await;
        c.find(Locator::Id("f-files"))
            .await
            .unwrap()
            .send_keys(evidence.to_str().unwrap())
            .await
            .unwrap();
        click(&c, "form[action$='/answer'] button[type='submit']").await;
        wait_for_text(&c, "改善措置の報告を送信しました").await;
        wait_for_text(&c, "是正報告.pdf").await;
        c.goto(&app.url("/inbox")).await.unwrap();
        wait_for_text(&c, "メール通知の設定").await;
        screenshot(&c, &format!("org-inbox-{label}")).await;

        // The reviewer reads the report and closes the instruction.
        switch_user(&c, &app, "shinsa@center.example.jp").await;
        c.goto(&app.url(&format!("/orgs/{org}/instructions/{instruction}")))
            .await
            .unwrap();
        wait_for_text(&c, "UTM を最新版へ更新しました").await;
        click(&c, "button[name='action'][value='close']").await;
        wait_for_text(&c, "指示を完了にしました").await;
        let html = c.source().await.unwrap();
        assert!(html.contains("status closed"), "closed");
        screenshot(&c, &format!("instruction-closed-{label}")).await;
        c.goto(&app.url(&format!("/orgs/{org}/followup")))
            .await
            .unwrap();
        wait_for_text(&c, "提出を依頼する").await;
        screenshot(&c, &format!("center-followup-{label}")).await;
        // The reviewer's home counts what waits; the inbox count is in the navigation.
        c.goto(&app.url("/home")).await.unwrap();
        wait_for_text(&c, "是正報告の確認待ち").await;
        let html = c.source().await.unwrap();
        assert!(html.contains("<strong>0</strong>審査待ち"), "all decided");
        assert!(html.contains("badge unread"), "the report is unread");
        screenshot(&c, &format!("center-home-{label}")).await;
        c.close().await.unwrap();

        // The mails: returned, accepted, instruction issued and closed to the organisation;
        // the corrective-action report to the reviewer.
        let mut subjects = vec![];
        for _ in 0..50 {
            subjects = std::fs::read_dir(app.data_dir.join("mail"))
                .unwrap()
                .filter_map(|e| std::fs::read_to_string(e.unwrap().path()).ok())
                .filter_map(|t| {
                    // Unfold the headers: long subjects continue on indented lines.
                    let t = t.replace("\r\n ", " ").replace("\n ", " ");
                    let to = t.lines().find(|l| l.starts_with("To: "))?.to_string();
                    let subject = t.lines().find(|l| l.starts_with("Subject: "))?.to_string();
                    Some(format!("{to} {subject}"))
                })
                .collect();
            if subjects.len() >= 5 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        for (to, what) in [
            ("kanri@yokohama.example.jp", "returned"),
            ("kanri@yokohama.example.jp", "accepted"),
            ("kanri@yokohama.example.jp", "Improvement instruction ("),
            (
                "kanri@yokohama.example.jp",
                "Improvement instruction closed",
            ),
            ("shinsa@center.example.jp", "Corrective-action report"),
        ] {
            assert!(
                subjects.iter().any(|s| s.contains(to) && s.contains(what)),
                "{to} {what}: {subjects:#?}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn org_admin_imports_a_messy_workbook_through_the_confirmation_step() {
    let Some(driver) = chromedriver() else {
        return;
    };
    for backend in backends() {
        let label = backend.label();
        let app = TestApp::spawn(backend).await;
        app.add_user("kanri@narita.example.jp", "org_admin", Some("NR001"))
            .await;
        let org = app.org_of("kanri@narita.example.jp").await;
        app.login("kanri@narita.example.jp", PASSWORD).await;
        for (name, address) in [("本社", "東京都"), ("成田営業所", "千葉県成田市")]
        {
            app.post(
                &format!("/orgs/{org}/locations"),
                &[("kind", "office"), ("name", name), ("address", address)],
            )
            .await;
        }
        let files = tempfile::tempdir().unwrap();
        let book = files.path().join("機器一覧.xlsx");
        std::fs::write(&book, crate::sheets::messy_workbook("成田営業所")).unwrap();
        let profile = tempfile::tempdir().unwrap();
        let c = browser(&driver, profile.path()).await;
        login(&c, &app, "kanri@narita.example.jp").await;
        wait_for_text(&c, "報告項目チェックリスト").await;
        c.goto(&app.url(&format!("/orgs/{org}/system-configuration")))
            .await
            .unwrap();
        wait_for_text(&c, "利用者側のシステム構成の提出").await;
        c.find(Locator::Css("form[action$='/import'] input[type='file']"))
            .await
            .unwrap()
            .send_keys(book.to_str().unwrap())
            .await
            .unwrap();
        click(&c, "form[action$='/import'] button[type='submit']").await;
        // 確認: the rows read, nothing stored yet.
        wait_for_text(
            &c,
            "シート「機器一覧」の3行目を見出しとして、2 行を読み取りました。",
        )
        .await;
        assert!(c.source().await.unwrap().contains("PRIMERGY RX2540"));
        assert_eq!(app.count("submissions").await, 0);
        screenshot(&c, &format!("import-confirm-{label}")).await;
        // 登録.
        click(&c, "form[action$='/import/confirm'] button[type='submit']").await;
        wait_for_text(&c, "行を取り込み、下書きに保存しました").await;
        let html = c.source().await.unwrap();
        assert!(
            html.contains("value=\"PRIMERGY RX2540\"") && html.contains("value=\"Mate\""),
            "{html}"
        );
        // Back opens the page the workbook was chosen on, not an offer to send it again.
        c.back().await.unwrap();
        wait_for_text(&c, "利用者側のシステム構成の提出").await;
        let back = c.source().await.unwrap();
        assert!(!back.contains("2 行を読み取りました") && !back.contains("ERR_CACHE_MISS"));
        c.close().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reviewer_is_held_at_totp_set_up_then_signs_in_with_a_computed_code() {
    use crate::second_factor::{base32_decode, step_now, totp};
    let Some(driver) = chromedriver() else {
        return;
    };
    for backend in backends() {
        let label = backend.label();
        let app = TestApp::spawn_configured(backend, |c| c.center_second_factor = true).await;
        app.add_user("shinsa@center.example.jp", "reviewer", None)
            .await;
        let profile = tempfile::tempdir().unwrap();
        let c = browser(&driver, profile.path()).await;

        // Signed in with the password, the reviewer is held at the set-up.
        login(&c, &app, "shinsa@center.example.jp").await;
        wait_for_text(&c, "あなたのアカウントでは2段階認証が必須です。").await;
        c.goto(&app.url("/review")).await.unwrap();
        wait_for_text(&c, "あなたのアカウントでは2段階認証が必須です。").await;
        assert!(
            c.current_url()
                .await
                .unwrap()
                .path()
                .ends_with("/account/second-factor")
        );
        // Said once: the page's own alert, not a second banner from the redirect.
        let html = c.source().await.unwrap();
        assert!(
            !html.contains("続けるには2段階認証を設定してください。"),
            "{html}"
        );
        submit(&c).await;
        wait_for_text(&c, "1. 認証アプリに登録する").await;
        // The QR code is drawn (inline SVG, nothing fetched from elsewhere).
        let size = c
            .execute(
                "var s = document.querySelector('.qr svg'); return s ? s.getBoundingClientRect().width : 0;",
                vec![],
            )
            .await
            .unwrap();
        assert!(
            size.as_f64().unwrap_or(0.0) >= 100.0,
            "QR code shown: {size}"
        );
        screenshot(&c, &format!("totp-enrol-{label}")).await;
        let secret = c
            .find(Locator::Id("totp-secret"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let secret = base32_decode(&secret);
        fill(&c, "code", &totp(&secret, step_now())).await;
        submit(&c).await;
        wait_for_text(&c, "このコードは今しか表示されません").await;
        screenshot(&c, &format!("totp-recovery-codes-{label}")).await;
        click(&c, "main a[href='/home']").await;
        wait_for_text(&c, "ログアウト").await;
        c.goto(&app.url("/review")).await.unwrap();
        wait_for_text(&c, "審査").await;
        logout(&c).await;

        // Next sign-in: the password, then the code of the next step (the set-up used this one).
        login(&c, &app, "shinsa@center.example.jp").await;
        wait_for_text(&c, "認証アプリに表示されている6桁の確認コード").await;
        fill(&c, "code", &totp(&secret, step_now() + 1)).await;
        submit(&c).await;
        wait_for_text(&c, "ログアウト").await;
        let url = c.current_url().await.unwrap();
        assert_eq!(url.path(), "/home", "{label}");
        screenshot(&c, &format!("totp-signed-in-{label}")).await;
        c.close().await.unwrap();
        assert_eq!(app.audit_count("user.second_factor_enabled").await, 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clerk_signs_out_another_device_and_changes_the_password_on_the_account_page() {
    let Some(driver) = chromedriver() else {
        return;
    };
    for backend in backends() {
        let label = backend.label();
        let app = TestApp::spawn(backend).await;
        app.add_user("kanri@a.example.jp", "org_admin", Some("AAAAA"))
            .await;
        // Another device, signed in earlier.
        let other = app.new_browser();
        other.login("kanri@a.example.jp", PASSWORD).await;
        let profile = tempfile::tempdir().unwrap();
        let c = browser(&driver, profile.path()).await;
        login(&c, &app, "kanri@a.example.jp").await;
        wait_for_text(&c, "ログアウト").await;
        click(&c, "header a[href='/account']").await;
        wait_for_text(&c, "ログイン中の端末").await;
        wait_for_text(&c, "この端末").await;
        screenshot(&c, &format!("account-{label}")).await;
        click(&c, "form[action='/account/sessions/end-others'] button").await;
        wait_for_text(&c, "この端末以外をすべてログアウトさせました。").await;
        assert_eq!(
            other.get("/home").await.status(),
            reqwest::StatusCode::SEE_OTHER,
            "the other device is signed out"
        );
        let new_password = "a-new-and-long-passphrase-77";
        fill(&c, "current_password", PASSWORD).await;
        fill(&c, "password", new_password).await;
        fill(&c, "password_confirm", new_password).await;
        click(&c, "form[action='/account/password'] button[type='submit']").await;
        wait_for_text(&c, "パスワードを変更しました。").await;
        logout(&c).await;
        c.goto(&app.url("/login")).await.unwrap();
        fill(&c, "email", "kanri@a.example.jp").await;
        fill(&c, "password", new_password).await;
        submit(&c).await;
        wait_for_text(&c, "ログアウト").await;
        assert_eq!(c.current_url().await.unwrap().path(), "/home", "{label}");
        c.close().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn switching_the_language_with_typed_input_asks_first_and_a_name_is_changed() {
    let Some(driver) = chromedriver() else {
        return;
    };
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        app.add_user("kanri@a.example.jp", "org_admin", Some("AAAAA"))
            .await;
        let profile = tempfile::tempdir().unwrap();
        let c = browser(&driver, profile.path()).await;
        login(&c, &app, "kanri@a.example.jp").await;
        wait_for_text(&c, "ログアウト").await;
        c.goto(&app.url("/account")).await.unwrap();
        wait_for_text(&c, "氏名を変更する").await;
        // Nothing typed: the switch goes straight to English (and back).
        click(&c, "form.lang button").await;
        wait_for_text(&c, "Change name").await;
        click(&c, "form.lang button").await;
        wait_for_text(&c, "氏名を変更する").await;
        // Typed and not sent: asked first; Cancel keeps the page and what was typed.
        fill(&c, "display_name", "山田　花子").await;
        click(&c, "form.lang button").await;
        let asked = c.alert_text().await.unwrap();
        assert!(asked.contains("表示言語を切り替えると"), "{asked}");
        c.answer_alert(false).await.unwrap();
        let field = c.find(Locator::Css("[name='display_name']")).await.unwrap();
        assert_eq!(
            field.prop("value").await.unwrap().as_deref(),
            Some("山田　花子")
        );
        // Sent, the page is clean again: the name shows in the header.
        click(&c, "form[action='/account/name'] button[type='submit']").await;
        wait_for_text(&c, "氏名を変更しました。").await;
        assert!(c.source().await.unwrap().contains("山田　花子"));
        click(&c, "form.lang button").await;
        wait_for_text(&c, "Change name").await;
        c.close().await.unwrap();
    }
}
