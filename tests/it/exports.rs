//! Exports read back by real readers (openpyxl, Python's csv module, serde_json), their
//! filters and tenant isolation, and the evidence package's manifest.

use std::io::Read;

use chrono::{DateTime, TimeZone, Utc};
use reqwest::StatusCode;
use secportal::db::on_db;
use uuid::Uuid;

use crate::dual_test;
use crate::followup::{setup, submit_configuration};
use crate::helpers::{PASSWORD, TestApp};

/// A time given in JST.
fn jst(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap() - chrono::Duration::hours(9)
}

async fn user_id(app: &TestApp, email: &str) -> Uuid {
    secportal::db::users::by_email(app.db(), email)
        .await
        .unwrap()
        .unwrap()
        .id
}

/// Stores a sealed submission directly (the submit flow is tested elsewhere).
#[allow(clippy::too_many_arguments)]
async fn seal(
    app: &TestApp,
    org: Uuid,
    kind: &str,
    state: &str,
    at: DateTime<Utc>,
    receipt: &str,
    data: serde_json::Value,
    location: Option<Uuid>,
) -> Uuid {
    let id = Uuid::now_v7();
    let scope = if location.is_some() {
        "office"
    } else {
        "organisation"
    };
    let data = data.to_string();
    on_db!(app.db(), p => {
        let rev: i64 = sqlx::query_scalar("SELECT MAX(revision) FROM catalogue_revisions").fetch_one(p).await.unwrap();
        sqlx::query(
            "INSERT INTO submissions (id, org_id, kind, scope_kind, location_id, state, version, data, catalogue_revision, \
             submitted_at, created_at, receipt_no, snapshot, series_id) VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $8, $9, $9, $10, $7, $1)",
        )
        .bind(id).bind(org).bind(kind).bind(scope).bind(location).bind(state).bind(&data).bind(rev).bind(at).bind(receipt)
        .execute(p).await.unwrap();
    });
    id
}

async fn decide(app: &TestApp, sub: Uuid, org: Uuid, decision: &str, reason: &str) {
    let reviewer = user_id(app, "reviewer@center.example.jp").await;
    on_db!(app.db(), p => sqlx::query(
        "INSERT INTO decisions (id, submission_id, org_id, decision, reason, reviewer_id, decided_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(Uuid::now_v7()).bind(sub).bind(org).bind(decision).bind(reason).bind(reviewer).bind(jst(2026, 11, 2, 10))
    .execute(p).await.map(|_| ()).unwrap());
}

async fn office(app: &TestApp, org: Uuid, name: &str) -> Uuid {
    let id = Uuid::now_v7();
    on_db!(app.db(), p => sqlx::query(
        "INSERT INTO locations (id, org_id, kind, office_id, name, address, active, version, created_at, updated_at) \
         VALUES ($1, $2, 'office', NULL, $3, '東京都港区', TRUE, 1, $4, $4)",
    )
    .bind(id).bind(org).bind(name).bind(Utc::now())
    .execute(p).await.map(|_| ()).unwrap());
    id
}

async fn appoint(app: &TestApp, org: Uuid, location: Uuid, name: &str, from: &str, by: Uuid) {
    let from = chrono::NaiveDate::parse_from_str(from, "%Y-%m-%d").unwrap();
    on_db!(app.db(), p => sqlx::query(
        "INSERT INTO appointments (id, org_id, location_id, name, name_kana, department, title, phone, emergency_contact, email, \
         effective_from, created_by, created_at) VALUES ($1, $2, $3, $4, 'カナ', '情報システム部', '部長', '03-0000-0000', '090-0000-0000', 'k@a.example.jp', $5, $6, $7)",
    )
    .bind(Uuid::now_v7()).bind(org).bind(location).bind(name).bind(from).bind(by).bind(Utc::now())
    .execute(p).await.map(|_| ()).unwrap());
}

/// The Python to read exports back with: `SECPORTAL_TEST_PYTHON` (`.ci/run` sets it to a
/// virtual environment with openpyxl) or `python3`.
fn python_bin() -> String {
    std::env::var("SECPORTAL_TEST_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// Whether openpyxl can be imported: `cargo test` on a bare machine has no openpyxl, and then
/// the workbook read-back is skipped (with a note); under `.ci/run` it is required.
fn has_openpyxl() -> bool {
    let found = std::process::Command::new(python_bin())
        .args(["-c", "import openpyxl"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found || std::env::var_os("SECPORTAL_TEST_PYTHON").is_none(),
        "SECPORTAL_TEST_PYTHON is set but has no openpyxl"
    );
    if !found {
        eprintln!("openpyxl is not installed: the workbook read-back is skipped (.ci/run runs it)");
    }
    found
}

/// Reads a workbook back with openpyxl, when it is installed.
fn read_workbook(bytes: &[u8]) -> Option<serde_json::Value> {
    has_openpyxl().then(|| read_back(OPENPYXL, bytes, "xlsx"))
}

/// Runs a Python 3 script with arguments; answers its standard output.
fn python(script: &str, args: &[&str]) -> String {
    let out = std::process::Command::new(python_bin())
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

const OPENPYXL: &str = r#"
import json, sys, openpyxl
from openpyxl.utils import get_column_letter
ws = openpyxl.load_workbook(sys.argv[1]).active
def cell(v):
    return {"t": type(v).__name__, "v": v.isoformat() if hasattr(v, "isoformat") else v}
print(json.dumps({
    "title": ws.title,
    "freeze": ws.freeze_panes,
    "filter": ws.auto_filter.ref,
    "bold": all(c.font.bold for c in ws[1]),
    "widths": [ws.column_dimensions[get_column_letter(i + 1)].width for i in range(ws.max_column)],
    "rows": [[cell(v) for v in r] for r in ws.iter_rows(values_only=True)],
}, ensure_ascii=False))
"#;

const CSV_READER: &str = r#"
import csv, io, json, sys
raw = open(sys.argv[1], "rb").read()
text = raw.decode("utf-8-sig")
print(json.dumps({
    "bom": raw.startswith(b"\xef\xbb\xbf"),
    "crlf": raw.count(b"\r\n") >= 1 and raw.replace(b"\r\n", b"").count(b"\n") == raw.count(b"\n") - raw.count(b"\r\n"),
    "rows": list(csv.reader(io.StringIO(text, newline=""))),
}, ensure_ascii=False))
"#;

/// Saves bytes to a file and reads it back with a Python reader; answers its JSON.
fn read_back(script: &str, bytes: &[u8], ext: &str) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("export.{ext}"));
    std::fs::write(&path, bytes).unwrap();
    serde_json::from_str(&python(script, &[path.to_str().unwrap()])).unwrap()
}

/// Two organisations' sealed submissions: AAAAA's antivirus (returned, with formulas in the
/// reason) at its 本社, its system configuration (accepted), and BBBBB's antivirus.
async fn seed(app: &TestApp) -> (Uuid, Uuid, Uuid) {
    let (a, b) = setup(app).await;
    let (a, b) = (Uuid::parse_str(&a).unwrap(), Uuid::parse_str(&b).unwrap());
    let honsha = office(app, a, "本社").await;
    let today = secportal::web::page::today().to_string();
    let av = seal(
        app,
        a,
        "antivirus",
        "returned",
        jst(2026, 10, 1, 9),
        "SR-2026-000001",
        serde_json::json!({ "rows": [
            { "host": "=cmd|' /C calc'!A0", "office": "本社", "os": "Windows 11", "product": "trend_micro",
              "product_other": "ウイルスバスター", "version": "14", "definitions_date": "2020-01-01",
              "update_frequency": "daily", "last_full_scan": "" },
            { "host": "PC-02", "office": "本社", "os": "Windows 11", "product": "defender", "product_other": "",
              "version": "4.18", "definitions_date": today, "update_frequency": "realtime",
              "last_full_scan": "2026-10-01" }
        ] }),
        Some(honsha),
    )
    .await;
    decide(app, av, a, "returned", "＝SUM(A1) と +81 を直してください").await;
    seal(
        app,
        a,
        "system_configuration",
        "accepted",
        jst(2026, 11, 15, 14),
        "SR-2026-000002",
        serde_json::json!({ "note": "構成", "equipment": [
            { "device_type": "server", "maker": "富士通", "model": "PRIMERGY", "os_firmware": "Windows Server 2022",
              "quantity": "2", "location": "本社", "role": "業務", "naccs": "yes", "notes": "@備考" },
            { "device_type": "router", "maker": "YAMAHA", "model": "RTX1300", "os_firmware": "", "quantity": "1",
              "location": "本社", "role": "", "naccs": "no", "notes": "" }
        ] }),
        None,
    )
    .await;
    seal(
        app,
        b,
        "antivirus",
        "submitted",
        jst(2026, 11, 20, 9),
        "SR-2026-000003",
        serde_json::json!({ "rows": [] }),
        None,
    )
    .await;
    (a, b, honsha)
}

async fn reviewer(app: &TestApp) -> crate::helpers::Browser<'_> {
    let r = app.new_browser();
    r.login("reviewer@center.example.jp", PASSWORD).await;
    r
}

dual_test!(
    a_submissions_workbook_opens_in_openpyxl_with_typed_cells_a_bold_frozen_header_and_an_autofilter,
    |app| async move {
        seed(&app).await;
        let r = reviewer(&app).await;
        let res = r.get("/admin/exports/submissions/xlsx").await;
        assert_eq!(res.status(), StatusCode::OK);
        let bytes = res.bytes().await.unwrap();
        assert!(bytes.starts_with(b"PK"), "a zip container");
        if let Some(book) = read_workbook(&bytes) {
        assert_eq!(book["title"], "届出と判定");
        assert_eq!(book["freeze"], "A2");
        assert_eq!(book["filter"], "A1:M4");
        assert_eq!(book["bold"], true);
        assert!(book["widths"].as_array().unwrap().iter().all(|w| w.as_f64().unwrap() >= 6.0));
        let rows = book["rows"].as_array().unwrap();
        assert_eq!(rows.len(), 4, "header and three submissions");
        assert_eq!(rows[0][0]["v"], "受付番号");
        assert_eq!(rows[0][5]["v"], "対象（事業所・設置場所）");
        let first = &rows[1];
        assert_eq!(first[0]["v"], "SR-2026-000001");
        assert_eq!(first[5]["v"], "本社", "the target office");
        assert_eq!(first[6], serde_json::json!({ "t": "int", "v": 1 }), "a number cell");
        assert_eq!(first[7]["v"], "差戻し");
        assert_eq!(
            first[8],
            serde_json::json!({ "t": "datetime", "v": "2026-10-01T09:00:00" }),
            "a date cell in JST"
        );
        assert_eq!(first[10]["t"], "str", "text stays text: {}", first[10]);
        assert_eq!(rows[2][4]["v"], "組織全体", "as the pages say it");
        }
        assert_eq!(app.audit_count("export.downloaded").await, 1);
    }
);

dual_test!(
    a_csv_export_has_a_bom_and_crlf_and_defuses_formulas_in_half_and_full_width,
    |app| async move {
        seed(&app).await;
        let r = reviewer(&app).await;
        let bytes = r
            .get("/admin/exports/submissions/csv")
            .await
            .bytes()
            .await
            .unwrap();
        let csv = read_back(CSV_READER, &bytes, "csv");
        assert_eq!(csv["bom"], true);
        assert_eq!(csv["crlf"], true);
        let rows = csv["rows"].as_array().unwrap();
        assert_eq!(rows.len(), 4);
        assert_eq!(rows[1][10], "'＝SUM(A1) と +81 を直してください");
        assert_eq!(rows[1][8], "2026-10-01 09:00:00");
        let bytes = r
            .get("/admin/exports/antivirus/csv")
            .await
            .bytes()
            .await
            .unwrap();
        let rows = read_back(CSV_READER, &bytes, "csv")["rows"].clone();
        assert_eq!(rows[1][7], "'=cmd|' /C calc'!A0", "{rows}");
        let bytes = r
            .get("/admin/exports/equipment/csv")
            .await
            .bytes()
            .await
            .unwrap();
        let rows = read_back(CSV_READER, &bytes, "csv")["rows"].clone();
        assert_eq!(rows[1][16], "'@備考", "{rows}");
    }
);

dual_test!(
    the_json_export_is_identical_in_japanese_and_english_with_codes_and_iso_times,
    |app| async move {
        seed(&app).await;
        let r = reviewer(&app).await;
        let get = |lang: &'static str| {
            let r = &r;
            async move {
                r.client
                    .get(r.app.url("/admin/exports/submissions/json"))
                    .header("accept-language", lang)
                    .send()
                    .await
                    .unwrap()
                    .bytes()
                    .await
                    .unwrap()
            }
        };
        let (ja, en) = (get("ja").await, get("en").await);
        assert_eq!(ja, en, "the same bytes whatever the language");
        let json: serde_json::Value = serde_json::from_slice(&ja).unwrap();
        assert_eq!(json[0]["state"], "returned");
        assert_eq!(json[0]["item"], "antivirus");
        assert_eq!(json[0]["target_kind"], "office");
        assert_eq!(json[0]["target"], "本社");
        assert_eq!(json[0]["version"], 1);
        assert_eq!(json[0]["submitted_at"], "2026-10-01T00:00:00Z");
        assert_eq!(json[0]["decision"], "returned");
        assert_eq!(json[1]["target"], serde_json::Value::Null);
        // The English CSV's headers and labels are English.
        let csv = r
            .client
            .get(r.app.url("/admin/exports/submissions/csv"))
            .header("accept-language", "en")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(csv.contains("Returned"), "{csv}");
    }
);

dual_test!(
    exports_narrow_by_period_organisation_item_and_state_across_many_batches,
    |app| async move {
        let (a, _, _) = seed(&app).await;
        for i in 0..600 {
            seal(
                &app,
                a,
                "id_management",
                "submitted",
                jst(2026, 9, 1, 9) + chrono::Duration::minutes(i),
                &format!("SR-2025-{i:06}"),
                serde_json::json!({}),
                None,
            )
            .await;
        }
        let r = reviewer(&app).await;
        let count = |q: &'static str| {
            let r = &r;
            async move {
                let json: serde_json::Value = serde_json::from_slice(
                    &r.get(&format!("/admin/exports/submissions/json{q}"))
                        .await
                        .bytes()
                        .await
                        .unwrap(),
                )
                .unwrap();
                json.as_array().unwrap().len()
            }
        };
        assert_eq!(count("").await, 603);
        assert_eq!(count("?org=BBBBB").await, 1);
        assert_eq!(count("?org=aaaaa").await, 602);
        assert_eq!(count("?item=antivirus").await, 2);
        assert_eq!(count("?state=accepted").await, 1);
        assert_eq!(
            count("?from=2026-10-01&to=2026-10-01").await,
            1,
            "the JST day"
        );
        assert_eq!(count("?from=2026-11-01").await, 2);
        assert_eq!(count("?to=2026-09-30").await, 600);
        assert_eq!(count("?item=antivirus&state=submitted").await, 1);
        let form = r.get("/admin/exports/file?dataset=submissions&format=csv&org=AAAAA&item=system_configuration").await;
        assert_eq!(form.status(), StatusCode::OK);
        let text = form.text().await.unwrap();
        assert_eq!(text.matches("\r\n").count(), 2, "{text}");
    }
);

dual_test!(
    a_bad_filter_is_named_on_the_page_and_nothing_is_exported_or_audited,
    |app| async move {
        seed(&app).await;
        let r = reviewer(&app).await;
        let index = r.get("/admin/exports").await.text().await.unwrap();
        assert!(
            index.contains("機器の構成リスト（全行）") && index.contains("基準日（管理責任者）"),
            "{index}"
        );
        let before = app.audit_count("export.downloaded").await;
        let res = r.get("/admin/exports/submissions/csv?from=2026-13-40&to=2026-01-01&org=ZZZZZ&item=nope&state=lost").await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let page = res.text().await.unwrap();
        for message in [
            "期間（受付日・開始）: 日付",
            "利用者コード: この利用者コードの組織はありません。",
            "報告項目: ",
            "状況: ",
        ] {
            assert!(page.contains(message), "{message}: {page}");
        }
        assert!(
            !page.contains("error.") && !page.contains("export.filter"),
            "no keys shown"
        );
        let res = r
            .get("/admin/exports/submissions/csv?from=2026-11-02&to=2026-11-01")
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            res.text()
                .await
                .unwrap()
                .contains("終了日は開始日以降にしてください。")
        );
        assert_eq!(
            app.audit_count("export.downloaded").await,
            before,
            "nothing recorded"
        );
        assert_eq!(
            r.get("/admin/exports/users/csv").await.status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            r.get("/admin/exports/submissions/pdf").await.status(),
            StatusCode::NOT_FOUND
        );
    }
);

dual_test!(
    equipment_antivirus_and_administrator_exports_list_every_row_with_flags,
    |app| async move {
        let (a, _, honsha) = seed(&app).await;
        let by = user_id(&app, "kanri@a.example.jp").await;
        appoint(&app, a, honsha, "山田 一郎", "2026-04-01", by).await;
        appoint(&app, a, honsha, "佐藤 花子", "2026-10-01", by).await;
        let r = reviewer(&app).await;
        let json = |path: &'static str| {
            let r = &r;
            async move {
                serde_json::from_slice::<serde_json::Value>(
                    &r.get(path).await.bytes().await.unwrap(),
                )
                .unwrap()
            }
        };
        let eq = json("/admin/exports/equipment/json").await;
        assert_eq!(eq.as_array().unwrap().len(), 2, "{eq}");
        assert_eq!(eq[0]["receipt_no"], "SR-2026-000002");
        assert_eq!(eq[0]["device_type"], "server");
        assert_eq!(eq[0]["quantity"], 2);
        assert_eq!(eq[0]["naccs"], true);
        assert_eq!(eq[1]["line"], 2);
        assert_eq!(eq[1]["naccs"], false);
        let av = json("/admin/exports/antivirus/json").await;
        assert_eq!(
            av.as_array().unwrap().len(),
            2,
            "BBBBB's report has no computers: {av}"
        );
        assert_eq!(av[0]["product"], "trend_micro");
        assert_eq!(av[0]["product_text"], "ウイルスバスター");
        assert_eq!(av[0]["definitions_date"], "2020-01-01");
        assert_eq!(
            (av[0]["stale"].clone(), av[0]["no_full_scan"].clone()),
            (true.into(), true.into())
        );
        assert_eq!(
            (av[1]["stale"].clone(), av[1]["no_full_scan"].clone()),
            (false.into(), false.into())
        );
        let all = json("/admin/exports/administrators/json").await;
        assert_eq!(all.as_array().unwrap().len(), 2);
        assert_eq!(all[0]["name"], "山田 一郎");
        assert_eq!(all[0]["effective_until"], "2026-10-01");
        assert_eq!(all[1]["effective_until"], serde_json::Value::Null);
        let june = json("/admin/exports/administrators/json?on=2026-06-30").await;
        assert_eq!(june.as_array().unwrap().len(), 1);
        assert_eq!(june[0]["name"], "山田 一郎");
        assert_eq!(june[0]["location"], "本社");
        let nov = json("/admin/exports/administrators/json?on=2026-11-01").await;
        assert_eq!(nov[0]["name"], "佐藤 花子");
        let march = json("/admin/exports/administrators/json?on=2026-03-31").await;
        assert_eq!(march, serde_json::json!([]));
        // The antivirus workbook: dates typed; flags in words, as the CSV writes them (a
        // boolean cell reads TRUE/FALSE in Japanese Excel).
        let bytes = r
            .get("/admin/exports/antivirus/xlsx")
            .await
            .bytes()
            .await
            .unwrap();
        assert!(bytes.starts_with(b"PK"), "a zip container");
        if let Some(book) = read_workbook(&bytes) {
            assert_eq!(book["rows"][1][13]["t"], "datetime", "{}", book["rows"][1]);
            assert_eq!(
                book["rows"][1][16],
                serde_json::json!({ "t": "str", "v": "はい" })
            );
        }
    }
);

dual_test!(
    organisation_users_cannot_export_nor_take_another_organisations_evidence,
    |app| async move {
        let (a, b, _) = seed(&app).await;
        // The main browser is AAAAA's administrator.
        for path in [
            "/admin/exports",
            "/admin/exports/submissions/json",
            "/admin/exports/file?dataset=submissions&format=csv&org=BBBBB",
        ] {
            assert_eq!(
                app.get(path).await.status(),
                StatusCode::FORBIDDEN,
                "{path}"
            );
        }
        let b_sub: Uuid = on_db!(app.db(), p => sqlx::query_scalar("SELECT id FROM submissions WHERE org_id = $1").bind(b).fetch_one(p).await).unwrap();
        assert_eq!(
            app.get(&format!("/orgs/{b}/evidence.zip")).await.status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            app.get(&format!("/orgs/{b}/submissions/{b_sub}/evidence.zip"))
                .await
                .status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            app.get(&format!("/orgs/{a}/submissions/{b_sub}/evidence.zip"))
                .await
                .status(),
            StatusCode::NOT_FOUND,
            "another organisation's submission under one's own"
        );
        assert_eq!(app.audit_count("evidence.downloaded").await, 0);
        assert_eq!(app.audit_count("export.downloaded").await, 0);
        let own = app.get(&format!("/orgs/{a}/evidence.zip")).await;
        assert_eq!(own.status(), StatusCode::OK);
        let bytes = own.bytes().await.unwrap();
        let zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
        let names: Vec<String> = zip.file_names().map(|n| n.unwrap().to_string()).collect();
        assert!(
            names.iter().all(|n| !n.starts_with("SR-2026-000003")),
            "{names:?}"
        );
        assert!(
            names.iter().any(|n| n.starts_with("SR-2026-000001/")),
            "{names:?}"
        );
    }
);

dual_test!(
    the_evidence_package_holds_files_snapshot_receipt_and_a_manifest_whose_hashes_match,
    |app| async move {
        let (org, _) = setup(&app).await;
        let sub = submit_configuration(&app, &org).await;
        let r = reviewer(&app).await;
        let res = r
            .get(&format!("/orgs/{org}/submissions/{sub}/evidence.zip"))
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        assert!(
            res.headers()["content-disposition"]
                .to_str()
                .unwrap()
                .starts_with("attachment")
        );
        let bytes = res.bytes().await.unwrap();
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
        let mut manifest = String::new();
        zip.by_name("manifest.json")
            .unwrap()
            .read_to_string(&mut manifest)
            .unwrap();
        let manifest: serde_json::Value = serde_json::from_str(&manifest).unwrap();
        let listed = manifest["files"].as_array().unwrap();
        assert_eq!(listed.len() + 1, zip.len(), "every other entry is listed");
        use sha2::Digest;
        for f in listed {
            let mut body = vec![];
            zip.by_name(f["path"].as_str().unwrap())
                .unwrap()
                .read_to_end(&mut body)
                .unwrap();
            assert_eq!(
                hex::encode(sha2::Sha256::digest(&body)),
                f["sha256"].as_str().unwrap(),
                "{f}"
            );
            assert_eq!(body.len() as u64, f["size"].as_u64().unwrap());
        }
        let paths: Vec<&str> = listed.iter().map(|f| f["path"].as_str().unwrap()).collect();
        let receipt = paths[0].split('/').next().unwrap().to_string();
        assert!(receipt.starts_with("SR-"), "{paths:?}");
        for want in [
            "files/01_構成図.pdf",
            "files/02_機器.csv",
            "snapshot.json",
            "receipt.html",
        ] {
            assert!(
                paths.contains(&format!("{receipt}/{want}").as_str()),
                "{want}: {paths:?}"
            );
        }
        let mut pdf = vec![];
        zip.by_name(&format!("{receipt}/files/01_構成図.pdf"))
            .unwrap()
            .read_to_end(&mut pdf)
            .unwrap();
        assert_eq!(pdf, crate::followup::PDF);
        let mut html = String::new();
        zip.by_name(&format!("{receipt}/receipt.html"))
            .unwrap()
            .read_to_string(&mut html)
            .unwrap();
        assert!(
            html.contains(&receipt) && html.contains("受付票") && !html.contains("csrf"),
            "{html}"
        );
        let mut snap = String::new();
        zip.by_name(&format!("{receipt}/snapshot.json"))
            .unwrap()
            .read_to_string(&mut snap)
            .unwrap();
        assert!(serde_json::from_str::<serde_json::Value>(&snap).is_ok());
        assert_eq!(app.audit_count("evidence.downloaded").await, 1);
        // The organisation may take its own.
        assert_eq!(
            app.get(&format!("/orgs/{org}/submissions/{sub}/evidence.zip"))
                .await
                .status(),
            StatusCode::OK
        );
        assert_eq!(app.audit_count("evidence.downloaded").await, 2);
    }
);
