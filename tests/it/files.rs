//! Uploads, submission with receipt numbers, downloads, and every bad file the issue names.

use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};

use crate::dual_test;
use crate::helpers::{PASSWORD, TestApp, confirm_import, location};

const PDF: &[u8] =
    b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0\x90wS\xde";

pub(crate) async fn setup(app: &TestApp) -> String {
    app.add_user("kanri@a.example.jp", "org_admin", Some("AAAAA"))
        .await;
    app.add_user("b@b.example.jp", "org_admin", Some("BBBBB"))
        .await;
    app.login("kanri@a.example.jp", PASSWORD).await;
    app.org_of("kanri@a.example.jp").await.to_string()
}

pub(crate) async fn upload(
    app: &TestApp,
    org: &str,
    role: &str,
    files: Vec<(&str, Vec<u8>)>,
) -> reqwest::Response {
    let token = app.browser().token().await;
    let mut form = Form::new()
        .text("csrf_token", token)
        .text("role", role.to_string());
    for (name, body) in files {
        form = form.part("files", Part::bytes(body).file_name(name.to_string()));
    }
    app.client
        .post(app.url(&format!("/orgs/{org}/system-configuration/files")))
        .header("origin", &app.base)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

/// The id of the first file the system-configuration page of `org` lists.
pub(crate) async fn first_file_id(app: &TestApp, org: &str) -> String {
    let page = app
        .get(&format!("/orgs/{org}/system-configuration"))
        .await
        .text()
        .await
        .unwrap();
    page.split("href=\"/files/")
        .nth(1)
        .expect("the page lists a file")
        .split('"')
        .next()
        .unwrap()
        .to_string()
}

/// Every regular file under the data folder's file store.
pub fn stored_files(app: &TestApp) -> Vec<std::path::PathBuf> {
    let mut out = vec![];
    let mut stack = vec![app.data_dir.join("files")];
    while let Some(d) = stack.pop() {
        if let Ok(rd) = std::fs::read_dir(&d) {
            for e in rd.flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p)
                } else {
                    out.push(p)
                }
            }
        }
    }
    out
}

/// A zip whose central directory lists `entries` (name, declared uncompressed size).
fn zip_with(entries: &[(&str, u32)]) -> Vec<u8> {
    let mut local = vec![];
    let mut central = vec![];
    for (name, size) in entries {
        let offset = local.len() as u32;
        local.extend_from_slice(b"PK\x03\x04");
        local.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        local.extend_from_slice(&0u32.to_le_bytes());
        local.extend_from_slice(&size.to_le_bytes());
        local.extend_from_slice(&(name.len() as u16).to_le_bytes());
        local.extend_from_slice(&0u16.to_le_bytes());
        local.extend_from_slice(name.as_bytes());
        central.extend_from_slice(b"PK\x01\x02");
        central.extend_from_slice(&[20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        central.extend_from_slice(&0u32.to_le_bytes());
        central.extend_from_slice(&size.to_le_bytes());
        central.extend_from_slice(&(name.len() as u16).to_le_bytes());
        central.extend_from_slice(&[0; 12]);
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
    }
    let cd_offset = local.len() as u32;
    let mut out = local;
    out.extend_from_slice(&central);
    out.extend_from_slice(b"PK\x05\x06\0\0\0\0");
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&[0, 0]);
    out
}

dual_test!(
    a_configuration_is_uploaded_submitted_once_and_receipted,
    |app| async move {
        let org = setup(&app).await;
        let res = upload(
            &app,
            &org,
            "diagram",
            vec![
                ("システム構成図 2026.pdf", PDF.to_vec()),
                ("rack.png", PNG.to_vec()),
            ],
        )
        .await;
        assert_eq!(
            res.status(),
            StatusCode::SEE_OTHER,
            "{}",
            res.text().await.unwrap()
        );
        let csv = "機器種別,メーカー,型番,台数\nサーバ,富士通,PRIMERGY,2\n";
        let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode(csv);
        let res = upload(
            &app,
            &org,
            "equipment_list",
            vec![("機器一覧.csv", sjis.to_vec())],
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(app.count("submission_files").await, 3);
        // Submitting twice (a double click) leads to one 確認 page, and confirming it twice
        // makes one submission.
        let path = format!("/orgs/{org}/system-configuration");
        let submit = [("note", "本社と大阪支店の構成"), ("action", "submit")];
        let to_confirm = app.browser().post_unconfirmed(&path, &submit).await;
        assert_eq!(to_confirm.status(), StatusCode::SEE_OTHER);
        let again = app.browser().post_unconfirmed(&path, &submit).await;
        assert_eq!(location(&to_confirm), location(&again));
        assert!(location(&again).ends_with("/confirm"));
        let first = app.browser().confirm(&location(&to_confirm)).await;
        assert_eq!(first.status(), StatusCode::SEE_OTHER);
        let second = app.browser().confirm(&location(&to_confirm)).await;
        assert_eq!(location(&first), location(&second));
        assert!(location(&first).ends_with("/receipt"));
        let receipt = app.get(&location(&first)).await.text().await.unwrap();
        let year = (chrono::Utc::now() + chrono::Duration::hours(9))
            .format("%Y")
            .to_string();
        assert!(receipt.contains(&format!("SR-{year}-000001")), "{receipt}");
        let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(PDF));
        assert!(
            receipt.contains(&sha)
                && receipt.contains("システム構成図 2026.pdf")
                && receipt.contains("受付票")
        );
        let db = app.db();
        let (state, snapshot): (String, String) = secportal::db::on_db!(db, p => sqlx::query_as(
        "SELECT state, snapshot FROM submissions WHERE kind = 'system_configuration'"
    ).fetch_one(p).await)
        .unwrap();
        assert_eq!(state, "submitted");
        let snap: serde_json::Value = serde_json::from_str(&snapshot).unwrap();
        assert_eq!(snap["files"].as_array().unwrap().len(), 3);
        assert_eq!(snap["catalogue_revision"], 1);
        assert_eq!(snap["data"]["note"], "本社と大阪支店の構成");
        // The sealed row cannot be changed, even directly.
        let edit = secportal::db::on_db!(db, p => sqlx::query("UPDATE submissions SET data = '{}' WHERE kind = 'system_configuration'").execute(p).await.map(|_| ()));
        assert!(edit.is_err(), "sealed");
        // The stored file is the uploaded file, by SHA-256.
        assert!(app.state.files.has(&sha, PDF.len() as u64).await);
        // A submitted item can no longer take files.
        let res = upload(&app, &org, "diagram", vec![("late.pdf", PDF.to_vec())]).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "a new draft starts");
        let home = app.get("/home").await.text().await.unwrap();
        assert!(home.contains("7.4.1(4)"));
    }
);

dual_test!(
    downloads_are_attachments_for_the_owner_and_the_center_only,
    |app| async move {
        let org = setup(&app).await;
        app.add_user("admin@center.example.jp", "center_admin", None)
            .await;
        upload(
            &app,
            &org,
            "diagram",
            vec![("構成図 (最新).pdf", PDF.to_vec())],
        )
        .await;
        let file_id = first_file_id(&app, &org).await;
        let res = app.get(&format!("/files/{file_id}")).await;
        assert_eq!(res.status(), StatusCode::OK);
        let h = res.headers().clone();
        let cd = h.get("content-disposition").unwrap().to_str().unwrap();
        assert!(
            cd.starts_with("attachment;")
                && cd.contains(
                    "filename*=UTF-8''%E6%A7%8B%E6%88%90%E5%9B%B3%20%28%E6%9C%80%E6%96%B0%29.pdf"
                ),
            "{cd}"
        );
        assert_eq!(h.get("x-content-type-options").unwrap(), "nosniff");
        assert!(
            h.get("content-security-policy")
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("sandbox")
        );
        assert_eq!(res.bytes().await.unwrap().as_ref(), PDF);
        assert_eq!(app.audit_count("file.downloaded").await, 1);
        let other = app.new_browser();
        other.login("b@b.example.jp", PASSWORD).await;
        assert_eq!(
            other.get(&format!("/files/{file_id}")).await.status(),
            StatusCode::NOT_FOUND
        );
        let center = app.new_browser();
        center.login("admin@center.example.jp", PASSWORD).await;
        assert_eq!(
            center.get(&format!("/files/{file_id}")).await.status(),
            StatusCode::OK
        );
        // Org B cannot upload into org A's draft either.
        let token = other.token().await;
        let form = Form::new()
            .text("csrf_token", token)
            .text("role", "diagram")
            .part("files", Part::bytes(PDF.to_vec()).file_name("x.pdf"));
        let res = other
            .client
            .post(app.url(&format!("/orgs/{org}/system-configuration/files")))
            .header("origin", &app.base)
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        assert_eq!(app.count("submission_files").await, 1);
    }
);

dual_test!(
    every_bad_file_is_refused_with_its_reason_and_leaves_nothing_behind,
    |app| async move {
        let org = setup(&app).await;
        // A file its name refuses opens no draft (the Center's matrix would read 下書き).
        let res = upload(
            &app,
            &org,
            "diagram",
            vec![("tool.exe", b"MZ\x90\0".to_vec())],
        )
        .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            (
                app.count("submissions").await,
                app.audit_count("submission.draft_opened").await
            ),
            (0, 0)
        );
        let long = format!("{}.pdf", "あ".repeat(300));
        let cases: Vec<(&str, &str, Vec<u8>, &str)> = vec![
            ("diagram", "../../x.pdf", PDF.to_vec(), "使えない文字"),
            ("diagram", "C:\\x.pdf", PDF.to_vec(), "使えない文字"),
            ("diagram", "nul\0byte.pdf", PDF.to_vec(), "使えない文字"),
            (
                "diagram",
                "evil\u{202E}fdp.pdf",
                PDF.to_vec(),
                "使えない文字",
            ),
            ("diagram", &long, PDF.to_vec(), "長すぎます"),
            (
                "diagram",
                "tool.exe",
                b"MZ\x90\0".to_vec(),
                "受け付けていません",
            ),
            (
                "diagram",
                "really-a-png.pdf",
                PNG.to_vec(),
                "拡張子と一致しません",
            ),
            (
                "diagram",
                "page.png",
                b"<html><script>alert(1)</script></html>".to_vec(),
                "拡張子と一致しません",
            ),
            (
                "diagram",
                "logo.svg",
                b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>"
                    .to_vec(),
                "スクリプトを含む SVG",
            ),
            (
                "equipment_list",
                "bomb.xlsx",
                zip_with(&[("a.xml", 150_000_000), ("b.xml", 150_000_000)]),
                "上限を超えて",
            ),
            (
                "equipment_list",
                "slip.xlsx",
                zip_with(&[("../../evil.xml", 10)]),
                "不正なパス",
            ),
            (
                "equipment_list",
                "renamed-workbook.csv",
                zip_with(&[("xl/workbook.xml", 10)]),
                "中身は Excel などの Office ファイルか zip のようです",
            ),
            (
                "equipment_list",
                "utf16.csv",
                vec![0xFF, 0xFE, b'a', 0, b',', 0],
                "拡張子と一致しません",
            ),
            (
                "equipment_list",
                "diagram.pdf",
                PDF.to_vec(),
                "この欄には添付できない",
            ),
        ];
        for (role, name, body, message) in cases {
            let res = upload(&app, &org, role, vec![(name, body)]).await;
            if name.contains('\0') {
                // A NUL in the part header is refused by the multipart parser itself.
                assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{name}");
                assert!(res.text().await.unwrap().contains("形式が正しくありません"));
                continue;
            }
            assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{name}");
            let page = res.text().await.unwrap();
            assert!(page.contains(message), "{name}: {message}");
        }
        assert_eq!(app.count("submission_files").await, 0);
        assert_eq!(app.count("blobs").await, 0);
        assert_eq!(
            app.count("submissions").await,
            0,
            "a file its content refuses opens no draft either"
        );
        assert!(
            stored_files(&app).is_empty(),
            "nothing left on disk: {:?}",
            stored_files(&app)
        );
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversize_file_answers_413_and_leaves_nothing_behind() {
    for backend in crate::helpers::backends() {
        let app = TestApp::spawn_configured(backend, |c| c.max_file_bytes = 1024 * 1024).await;
        let org = setup(&app).await;
        let mut big = PDF.to_vec();
        big.resize(3 * 1024 * 1024, b'x');
        let res = upload(&app, &org, "diagram", vec![("big.pdf", big)]).await;
        assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert!(res.text().await.unwrap().contains("大きすぎます"));
        assert_eq!(app.count("submission_files").await, 0);
        assert!(stored_files(&app).is_empty(), "{:?}", stored_files(&app));
    }
}

dual_test!(
    receipt_numbers_are_gap_free_under_concurrent_submits,
    |app| async move {
        let org = setup(&app).await;
        let org = uuid::Uuid::parse_str(&org).unwrap();
        let user = secportal::db::users::by_email(app.db(), "kanri@a.example.jp")
            .await
            .unwrap()
            .unwrap()
            .id;
        let mut drafts = vec![];
        for i in 0..12 {
            // One open draft per kind and place: twelve drafts need twelve kinds.
            let kind = format!("system_configuration_{i}");
            let mut tx = app.db().begin().await.unwrap();
            let id = secportal::db::submissions::create_draft(
                &mut tx,
                &secportal::db::submissions::NewSubmission {
                    org_id: org,
                    kind: &kind,
                    scope_kind: secportal::domain::ScopeKind::Organisation,
                    location_id: None,
                    data: serde_json::json!({ "n": i }),
                    catalogue_revision: 1,
                    submitted_by: user,
                },
            )
            .await
            .unwrap();
            tx.commit().await.unwrap();
            drafts.push(id);
        }
        let mut tasks = vec![];
        for id in drafts.iter().copied().chain(drafts.iter().copied().take(4)) {
            let db = app.db().clone();
            tasks.push(tokio::spawn(async move {
                let mut tx = db.begin().await.unwrap();
                let r = secportal::db::submissions::submit(&mut tx, org, id, user, 1)
                    .await
                    .unwrap();
                tx.commit().await.unwrap();
                r.map(|r| r.receipt_no)
            }));
        }
        let mut numbers: Vec<String> = vec![];
        for t in tasks {
            if let Some(n) = t.await.unwrap() {
                numbers.push(n);
            }
        }
        numbers.sort();
        assert_eq!(numbers.len(), 12, "a draft is sealed once");
        let seqs: Vec<u32> = numbers
            .iter()
            .map(|n| n.rsplit('-').next().unwrap().parse().unwrap())
            .collect();
        assert_eq!(seqs, (1..=12).collect::<Vec<u32>>());
    }
);

pub(crate) async fn upload_to(
    app: &TestApp,
    path: &str,
    role: &str,
    name: &str,
    body: Vec<u8>,
) -> reqwest::Response {
    let token = app.browser().token().await;
    let form = Form::new()
        .text("csrf_token", token)
        .text("role", role.to_string())
        .part("files", Part::bytes(body).file_name(name.to_string()));
    app.client
        .post(app.url(path))
        .header("origin", &app.base)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

dual_test!(
    an_outside_connection_application_is_validated_and_goes_to_review,
    |app| async move {
        let org = setup(&app).await;
        let path = format!("/orgs/{org}/outside-connections");
        // Two connections: a LAN one behind a proxy, and a remote one by TA (prohibited).
        let mut fields = vec![
            ("c0_name", "本社 PROXY 経由のインターネット接続"),
            ("c0_connection_type", "lan"),
            ("c0_method", "proxy"),
            ("c0_computers", "naccs"),
            (
                "c0_description",
                "本社 LAN から PROXY サーバ経由でインターネットへ",
            ),
            ("c1_name", "営業所からのリモート接続"),
            ("c1_connection_type", "remote"),
            ("c1_method", "modem_ta"),
            ("c1_computers", "naccs"),
            ("c1_description", "営業所の端末から本社へリモート接続する"),
            ("c1_outside_measures", "ウイルス対策ソフト導入、OS 自動更新"),
            ("action", "submit"),
        ];
        let res = app.post(&path, &fields).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = res.text().await.unwrap();
        assert!(
            body.contains("モデム、TA（DSU）等を用いたリモート接続は原則として禁止されているため"),
            "the rule's wording"
        );
        assert!(
            body.contains(r#"id="f-c1_method-error""#)
                && !body.contains(r#"id="f-c0_method-error""#),
            "the error is under the second connection"
        );
        assert!(body.contains("接続構成図を添付してください"));
        assert!(
            body.contains("営業所の端末から本社へリモート接続する")
                && body.contains("本社 PROXY 経由のインターネット接続"),
            "input kept"
        );
        assert!(
            body.contains("接続 3（接続を追加するときだけ記入）"),
            "a blank block offers a third connection"
        );
        // VPN under a LAN connection names the mix-up, not a missing choice.
        fields[6] = ("c1_connection_type", "lan");
        fields[7] = ("c1_method", "vpn");
        let res = app.post(&path, &fields).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            res.text()
                .await
                .unwrap()
                .contains("LAN 接続で選べる方法は PROXY・NAT・その他です。")
        );
        fields[6] = ("c1_connection_type", "remote");
        fields[10] = ("c1_outside_measures", "");
        let res = app.post(&path, &fields).await;
        assert!(
            res.text()
                .await
                .unwrap()
                .contains("社外側コンピュータのセキュリティ対策を記入してください")
        );
        fields[7] = ("c1_method", "vpn");
        let db = app.db();
        let submitted: i64 = secportal::db::on_db!(db, p => sqlx::query_scalar("SELECT COUNT(*) FROM submissions WHERE state <> 'draft'").fetch_one(p).await).unwrap();
        assert_eq!(submitted, 0, "nothing reached the Center");

        let res = upload_to(
            &app,
            &format!("{path}/files"),
            "diagram",
            "リモート接続構成.pdf",
            PDF.to_vec(),
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        fields[10] = ("c1_outside_measures", "ウイルス対策ソフト導入、OS 自動更新");
        let res = app.post(&path, &fields).await;
        assert_eq!(
            res.status(),
            StatusCode::SEE_OTHER,
            "{}",
            res.text().await.unwrap()
        );
        let receipt = app.get(&location(&res)).await.text().await.unwrap();
        assert!(receipt.contains("7.4.2(2)") && receipt.contains("リモート接続構成.pdf"));
        assert!(
            receipt.contains("本社 PROXY 経由のインターネット接続")
                && receipt.contains("営業所からのリモート接続"),
            "both connections are in the application"
        );
        assert!(
            receipt.contains(">接続構成図</td>"),
            "the diagram is named for what it is"
        );
        let home = app.get("/home").await.text().await.unwrap();
        assert!(home.contains(&format!("/orgs/{org}/outside-connections")));
        // Another organisation: 404, nothing stored.
        let b = app.new_browser();
        b.login("b@b.example.jp", PASSWORD).await;
        assert_eq!(b.post(&path, &fields).await.status(), StatusCode::NOT_FOUND);
    }
);

dual_test!(
    the_antivirus_report_imports_csv_flags_stale_definitions_and_refuses_future_dates,
    |app| async move {
        let org = setup(&app).await;
        let res = app
            .post(
                &format!("/orgs/{org}/locations"),
                &[("kind", "office"), ("name", "本社"), ("address", "東京都")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let path = format!("/orgs/{org}/antivirus");
        let today = chrono::Utc::now().date_naive();
        let old = (today - chrono::Duration::days(30))
            .format("%Y-%m-%d")
            .to_string();
        let fresh = (today - chrono::Duration::days(1))
            .format("%Y/%m/%d")
            .to_string();
        let future = (today + chrono::Duration::days(3))
            .format("%Y-%m-%d")
            .to_string();

        // A CSV with problems imports nothing and names line and column.
        let bad = format!(
            "ホスト名/資産番号,事業所,OS,製品,製品バージョン,定義ファイル日付,更新頻度\nPC-001,本社,Windows 11,Defender,4.18,{future},毎日\n,大阪,Windows 10,ESET,10,{old},毎日\n"
        );
        let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode(&bad);
        let res = upload_to(
            &app,
            &format!("{path}/import"),
            "x",
            "av.csv",
            sjis.to_vec(),
        )
        .await;
        assert_eq!(
            res.status(),
            StatusCode::BAD_REQUEST,
            "the import form has csrf_token then the file"
        );
        let token = app.browser().token().await;
        let send = |body: Vec<u8>| {
            let form = Form::new()
                .text("csrf_token", token.clone())
                .part("file", Part::bytes(body).file_name("av.csv"));
            app.client
                .post(app.url(&format!("{path}/import")))
                .header("origin", &app.base)
                .multipart(form)
                .send()
        };
        let res = send(sjis.to_vec()).await.unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = res.text().await.unwrap();
        assert!(
            body.contains("2行目 F列「定義ファイル日付」：未来の日付は入力できません。"),
            "{body}"
        );
        assert!(
            body.contains("3行目 A列「ホスト名/資産番号」")
                && body.contains("3行目 B列「設置場所」：「大阪」という設置場所は登録されていません。登録されている設置場所：本社"),
            "{body}"
        );
        assert_eq!(app.count("submissions").await, 0, "nothing imported");
        let res = send(vec![0xFF, 0xFE, b'a', 0, 0x81]).await.unwrap();
        assert!(
            res.text()
                .await
                .unwrap()
                .contains("文字コードを判別できません")
        );

        // A clean CSV (Shift_JIS, Japanese headers) fills the list; stale definitions are flagged.
        let good = format!(
            "ホスト名/資産番号,事業所,OS,製品,製品バージョン,定義ファイル日付,更新頻度\nPC-001,本社,Windows 11,Microsoft Defender ウイルス対策,4.18,{fresh},毎日\nPC-002,本社,Windows 10,ウイルスバスター Corp.,14.0,{old},リアルタイム\n"
        );
        let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode(&good);
        let res = confirm_import(&app, send(sjis.to_vec()).await.unwrap()).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let page = app.get(&path).await.text().await.unwrap();
        assert!(
            page.contains("value=\"PC-002\"")
                && page.contains("1 台のコンピュータの定義ファイルが 7 日より古くなっています"),
            "{page}"
        );

        // Typing a future date into the page is refused at submit; nothing reaches the Center.
        let mut fields: Vec<(String, String)> = vec![
            ("row_0_host".into(), "PC-001".into()),
            ("row_0_office".into(), "本社".into()),
            ("row_0_os".into(), "Windows 11".into()),
            ("row_0_product".into(), "defender".into()),
            ("row_0_version".into(), "4.18".into()),
            ("row_0_definitions_date".into(), future.clone()),
            ("row_0_update_frequency".into(), "daily".into()),
            ("action".into(), "submit".into()),
        ];
        let as_refs = |f: &Vec<(String, String)>| {
            f.iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect::<Vec<_>>()
        };
        let pairs = as_refs(&fields);
        let refs: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let res = app.post(&path, &refs).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            res.text()
                .await
                .unwrap()
                .contains("未来の日付は入力できません")
        );
        let db = app.db();
        let submitted: i64 = secportal::db::on_db!(db, p => sqlx::query_scalar("SELECT COUNT(*) FROM submissions WHERE state <> 'draft'").fetch_one(p).await).unwrap();
        assert_eq!(submitted, 0);
        fields[5].1 = fresh.clone();
        let pairs = as_refs(&fields);
        let refs: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let res = app.post(&path, &refs).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let receipt = app.get(&location(&res)).await.text().await.unwrap();
        assert!(receipt.contains("7.4.1(3)") && receipt.contains("SR-"));
        // The template opens in Excel: UTF-8 with a BOM.
        let tpl = app
            .get(&format!("{path}/template.csv"))
            .await
            .bytes()
            .await
            .unwrap();
        assert!(
            tpl.starts_with(b"\xEF\xBB\xBF")
                && String::from_utf8_lossy(&tpl).contains("定義ファイル日付")
        );
        // Another organisation: 404.
        let b = app.new_browser();
        b.login("b@b.example.jp", PASSWORD).await;
        assert_eq!(b.get(&path).await.status(), StatusCode::NOT_FOUND);
    }
);

dual_test!(
    the_equipment_list_is_imported_checked_and_cross_checked_with_antivirus,
    |app| async move {
        let org = setup(&app).await;
        app.post(
            &format!("/orgs/{org}/locations"),
            &[("kind", "office"), ("name", "本社"), ("address", "東京都")],
        )
        .await;
        let path = format!("/orgs/{org}/system-configuration");
        let token = app.browser().token().await;
        let send = |body: Vec<u8>| {
            let form = Form::new()
                .text("csrf_token", token.clone())
                .part("file", Part::bytes(body).file_name("機器.csv"));
            app.client
                .post(app.url(&format!("{path}/import")))
                .header("origin", &app.base)
                .multipart(form)
                .send()
        };
        let bad = "機器種別,メーカー,型番,OS/ファームウェア,台数,設置場所,用途,NACCS接続\nサーバ,富士通,RX2540,Windows Server 2022,-1,本社,業務,○\nPC,NEC,Mate,Windows 11,3,大阪,事務,○\n";
        let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode(bad);
        let res = send(sjis.to_vec()).await.unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = res.text().await.unwrap();
        assert!(
            body.contains("2行目 E列「台数」：台数は1以上の整数で入力してください。"),
            "{body}"
        );
        assert!(body.contains("3行目 F列「設置場所」"), "{body}");
        assert_eq!(app.count("submissions").await, 0, "nothing imported");
        let res = send("メーカー,型番\nA,B\n".as_bytes().to_vec())
            .await
            .unwrap();
        assert!(res.text().await.unwrap().contains("必要な列がありません"));

        let good = "機器種別,メーカー,型番,OS/ファームウェア,台数,設置場所,用途,NACCS接続\nサーバ,富士通,RX2540,Windows Server 2022,2,本社,業務,○\nルータ,NEC,IX2215,Ver.10,1,本社,社外接続,×\n";
        let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode(good);
        let res = confirm_import(&app, send(sjis.to_vec()).await.unwrap()).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let page = app.get(&path).await.text().await.unwrap();
        assert!(page.contains("value=\"RX2540\"") && page.contains("value=\"IX2215\""));
        // The antivirus page notices that two NACCS computers have no antivirus row.
        let av = app
            .get(&format!("/orgs/{org}/antivirus"))
            .await
            .text()
            .await
            .unwrap();
        assert!(av.contains("本社：機器の構成リストでは NACCS に接続するコンピュータが 2 台ありますが、ウィルス対策の報告は 0 台です。"), "{av}");
        // Submitting with rows and a diagram (no equipment file needed).
        upload(&app, &org, "diagram", vec![("構成図.pdf", PDF.to_vec())]).await;
        let html = app.get(&path).await.text().await.unwrap();
        let mut fields: Vec<(String, String)> = vec![
            ("note".into(), "".into()),
            ("action".into(), "submit".into()),
        ];
        for part in html.split("name=\"eq_").skip(1) {
            let name = format!("eq_{}", part.split('"').next().unwrap());
            let tail = &part[part.find('"').unwrap()..];
            let value = if let Some(sel) = tail
                .split("</select>")
                .next()
                .filter(|t| t.contains("<option"))
            {
                sel.split("<option")
                    .find(|o| o.contains(" selected"))
                    .map(|o| {
                        o.split("value=\"")
                            .nth(1)
                            .map(|v| v.split('"').next().unwrap().to_string())
                            .unwrap_or_else(|| {
                                o.split('>')
                                    .nth(1)
                                    .unwrap()
                                    .split('<')
                                    .next()
                                    .unwrap()
                                    .to_string()
                            })
                    })
                    .unwrap_or_default()
            } else {
                tail.split("value=\"")
                    .nth(1)
                    .map(|v| v.split('"').next().unwrap().to_string())
                    .unwrap_or_default()
            };
            fields.push((name, value));
        }
        let refs: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let res = app.post(&path, &refs).await;
        assert_eq!(
            res.status(),
            StatusCode::SEE_OTHER,
            "{}",
            res.text().await.unwrap()
        );
        let db = app.db();
        let snapshot: String = secportal::db::on_db!(db, p => sqlx::query_scalar("SELECT snapshot FROM submissions WHERE kind = 'system_configuration' AND state = 'submitted'").fetch_one(p).await).unwrap();
        let snap: serde_json::Value = serde_json::from_str(&snapshot).unwrap();
        assert_eq!(snap["data"]["equipment"].as_array().unwrap().len(), 2);
        assert_eq!(snap["data"]["equipment"][0]["quantity"], "2");
    }
);

dual_test!(
    in_house_measures_need_every_status_and_description_and_take_evidence,
    |app| async move {
        let org = setup(&app).await;
        let path = format!("/orgs/{org}/inhouse-measures");
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
                fields.push((
                    format!("m_{area}_{m}_desc"),
                    format!("{area}/{m}: 多要素認証と月次パッチ"),
                ));
            }
        }
        // One missing description: refused, kept as a draft, nothing submitted.
        let mut bad = fields.clone();
        bad.retain(|(k, _)| k != "m_network_encryption_desc");
        let refs: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let res = app.post(&path, &refs).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            res.text()
                .await
                .unwrap()
                .contains("servers/subject_auth: 多要素認証と月次パッチ"),
            "input kept"
        );
        let db = app.db();
        let submitted: i64 = secportal::db::on_db!(db, p => sqlx::query_scalar("SELECT COUNT(*) FROM submissions WHERE state <> 'draft'").fetch_one(p).await).unwrap();
        assert_eq!(submitted, 0);
        // Evidence files go through the same checks as every upload.
        let res = upload_to(
            &app,
            &format!("{path}/files"),
            "evidence",
            "パッチ適用記録.pdf",
            PDF.to_vec(),
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let res = upload_to(
            &app,
            &format!("{path}/files"),
            "evidence",
            "x.svg",
            b"<svg><script>1</script></svg>".to_vec(),
        )
        .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let refs: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let res = app.post(&path, &refs).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let receipt = app.get(&location(&res)).await.text().await.unwrap();
        assert!(receipt.contains("7.4.1(5)") && receipt.contains("パッチ適用記録.pdf"));
        let b = app.new_browser();
        b.login("b@b.example.jp", PASSWORD).await;
        assert_eq!(b.post(&path, &refs).await.status(), StatusCode::NOT_FOUND);
    }
);

/// A minimal workbook: deflated parts, sizes declared as given (to test lying archives).
/// A zip of deflated parts; `Some(n)` declares a size other than the real one.
pub(crate) fn xlsx(parts: &[(&str, Vec<u8>, Option<u32>)]) -> Vec<u8> {
    let mut local = vec![];
    let mut central = vec![];
    for (name, data, declared) in parts {
        let packed = miniz_oxide::deflate::compress_to_vec(data, 6);
        let size = declared.unwrap_or(data.len() as u32);
        let offset = local.len() as u32;
        local.extend_from_slice(b"PK\x03\x04\x14\0\0\0\x08\0\0\0\0\0");
        local.extend_from_slice(&0u32.to_le_bytes());
        local.extend_from_slice(&(packed.len() as u32).to_le_bytes());
        local.extend_from_slice(&size.to_le_bytes());
        local.extend_from_slice(&(name.len() as u16).to_le_bytes());
        local.extend_from_slice(&0u16.to_le_bytes());
        local.extend_from_slice(name.as_bytes());
        local.extend_from_slice(&packed);
        central.extend_from_slice(b"PK\x01\x02\x14\0\x14\0\0\0\x08\0\0\0\0\0");
        central.extend_from_slice(&0u32.to_le_bytes());
        central.extend_from_slice(&(packed.len() as u32).to_le_bytes());
        central.extend_from_slice(&size.to_le_bytes());
        central.extend_from_slice(&(name.len() as u16).to_le_bytes());
        central.extend_from_slice(&[0; 12]);
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
    }
    let cd_offset = local.len() as u32;
    let mut out = local;
    out.extend_from_slice(&central);
    out.extend_from_slice(b"PK\x05\x06\0\0\0\0");
    out.extend_from_slice(&(parts.len() as u16).to_le_bytes());
    out.extend_from_slice(&(parts.len() as u16).to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&[0, 0]);
    out
}

dual_test!(
    an_excel_workbook_imports_and_an_xlsx_bomb_is_stopped,
    |app| async move {
        let org = setup(&app).await;
        app.post(
            &format!("/orgs/{org}/locations"),
            &[("kind", "office"), ("name", "本社"), ("address", "東京都")],
        )
        .await;
        let token = app.browser().token().await;
        let send = |path: String, body: Vec<u8>| {
            let form = Form::new()
                .text("csrf_token", token.clone())
                .part("file", Part::bytes(body).file_name("list.xlsx"));
            app.client
                .post(app.url(&path))
                .header("origin", &app.base)
                .multipart(form)
                .send()
        };
        // Definitions date as an Excel serial (46000 = 2025-12-09) and as text.
        let today = chrono::Utc::now().date_naive();
        let recent = (today - chrono::Duration::days(2))
            .format("%Y-%m-%d")
            .to_string();
        let mut book = rust_xlsxwriter::Workbook::new();
        let ws = book.add_worksheet();
        let rows: [[&str; 7]; 3] = [
            [
                "ホスト名/資産番号",
                "事業所",
                "OS",
                "製品",
                "製品バージョン",
                "定義ファイル日付",
                "更新頻度",
            ],
            [
                "PC-101",
                "本社",
                "Windows 11",
                "ESET Endpoint Security",
                "11",
                &recent,
                "毎日",
            ],
            [
                "PC-102",
                "本社",
                "Windows 11",
                "Sophos & Co",
                "2",
                "",
                "毎週",
            ],
        ];
        for (r, row) in rows.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                ws.write_string(r as u32, c as u16, *v).unwrap();
            }
        }
        ws.write_number(2, 5, 46000).unwrap();
        let book = book.save_to_buffer().unwrap();
        let res = send(format!("/orgs/{org}/antivirus/import"), book)
            .await
            .unwrap();
        let res = confirm_import(&app, res).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let page = app
            .get(&format!("/orgs/{org}/antivirus"))
            .await
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("value=\"PC-101\"") && page.contains("value=\"2025-12-09\""),
            "{page}"
        );
        assert!(page.contains("value=\"PC-102\""), "the second row too");

        // A sheet that inflates past the cap while declaring a small size is refused.
        let huge = vec![b' '; 40 * 1024 * 1024];
        let bomb = xlsx(&[("xl/worksheets/sheet1.xml", huge, Some(1000))]);
        assert!(bomb.len() < 200 * 1024);
        let res = send(format!("/orgs/{org}/system-configuration/import"), bomb)
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(res.text().await.unwrap().contains("上限を超えて"));
    }
);

dual_test!(
    a_stored_workbook_whose_directory_lies_about_sizes_is_refused,
    |app| async move {
        let org = setup(&app).await;
        // Declares 1,000 bytes, inflates to 40 MB: kept as a file it would be a bomb for
        // whoever opens it in Excel.
        let lying = xlsx(&[(
            "xl/worksheets/sheet1.xml",
            vec![b' '; 40 * 1024 * 1024],
            Some(1000),
        )]);
        let res = upload(&app, &org, "equipment_list", vec![("機器一覧.xlsx", lying)]).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            res.text()
                .await
                .unwrap()
                .contains("展開後のサイズまたはファイル数が上限を超えています")
        );
        assert_eq!(app.count("submission_files").await, 0);
        assert!(stored_files(&app).is_empty(), "{:?}", stored_files(&app));
        // An honest workbook is kept.
        let honest = xlsx(&[("xl/worksheets/sheet1.xml", b"<x/>".to_vec(), None)]);
        let res = upload(
            &app,
            &org,
            "equipment_list",
            vec![("機器一覧.xlsx", honest)],
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
    }
);
