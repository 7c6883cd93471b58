//! Spreadsheets as Japanese offices keep them (issue 10): workbooks with title rows, merged
//! cells, several sheets and Japanese headings; Excel's CSV in Shift_JIS and its "Unicode
//! テキスト" in UTF-16; full-width digits and era dates; problems at the sheet's own row and
//! column; hostile workbooks refused with nothing stored.

use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};

use crate::dual_test;
use crate::helpers::{PASSWORD, TestApp, confirm_import};

/// An organisation admin signed in, with the offices 本社 and 成田営業所.
async fn setup(app: &TestApp) -> String {
    app.add_user("kanri@a.example.jp", "org_admin", Some("AAAAA"))
        .await;
    app.login("kanri@a.example.jp", PASSWORD).await;
    let org = app.org_of("kanri@a.example.jp").await.to_string();
    for (name, address) in [("本社", "東京都"), ("成田営業所", "千葉県成田市")] {
        let res = app
            .post(
                &format!("/orgs/{org}/locations"),
                &[("kind", "office"), ("name", name), ("address", address)],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
    }
    org
}

async fn send(app: &TestApp, path: &str, name: &str, body: Vec<u8>) -> reqwest::Response {
    let token = app.browser().token().await;
    let form = Form::new()
        .text("csrf_token", token)
        .part("file", Part::bytes(body).file_name(name.to_string()));
    app.client
        .post(app.url(path))
        .header("origin", &app.base)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

/// The rows stored in the organisation's drafts, as JSON.
async fn stored_rows(app: &TestApp) -> Vec<serde_json::Value> {
    let db = app.db();
    let data: Vec<String> = secportal::db::on_db!(db, p => sqlx::query_scalar("SELECT data FROM submissions").fetch_all(p).await).unwrap();
    data.iter()
        .flat_map(|d| {
            let v: serde_json::Value = serde_json::from_str(d).unwrap();
            let rows = if v["rows"].is_array() {
                &v["rows"]
            } else {
                &v["equipment"]
            };
            rows.as_array().cloned().unwrap_or_default()
        })
        .collect()
}

/// The equipment list as an IT department keeps it: a cover sheet first, then a sheet with a
/// merged title on row 1, a blank row 2, headings on row 3 (with a No. and a 備考 column),
/// full-width digits, and a blank row 5 between the data rows. `place` is row 6's location.
pub(crate) fn messy_workbook(place: &str) -> Vec<u8> {
    let mut book = Workbook::new();
    let cover = book.add_worksheet();
    cover.set_name("表紙").unwrap();
    cover.write_string(0, 0, "使用機器一覧").unwrap();
    cover.write_string(2, 0, "作成：情報システム課").unwrap();
    let sheet = book.add_worksheet();
    sheet.set_name("機器一覧").unwrap();
    let bold = Format::new().set_bold();
    sheet
        .merge_range(
            0,
            0,
            0,
            8,
            "システム構成 使用機器一覧（２０２６年１１月現在）",
            &bold,
        )
        .unwrap();
    let headings = [
        "No.",
        "種別",
        "メーカー名",
        "機種・型番",
        "ＯＳ",
        "数量",
        "拠点",
        "NACCS接続有無",
        "備考",
    ];
    for (c, h) in headings.iter().enumerate() {
        sheet.write_string(2, c as u16, *h).unwrap();
    }
    // A column the report has no field for.
    sheet.write_string(2, 9, "IPアドレス").unwrap();
    // The device's own name, under a heading of its own after the rest.
    sheet.write_string(2, 10, "ホスト名").unwrap();
    sheet.write_string(3, 10, "NACCS-SV01").unwrap();
    let rows: [(u32, [&str; 9]); 2] = [
        (
            3,
            [
                "１",
                "サーバ",
                "富士通",
                "ＰＲＩＭＥＲＧＹ RX2540",
                "Windows Server 2022",
                "２",
                "本社",
                "有",
                "更新予定",
            ],
        ),
        (
            5,
            [
                "3",
                "パソコン",
                "NEC",
                "Mate",
                "Windows 11",
                "",
                place,
                "○",
                "",
            ],
        ),
    ];
    for (r, cells) in rows {
        for (c, v) in cells.iter().enumerate() {
            if !v.is_empty() {
                sheet.write_string(r, c as u16, *v).unwrap();
            }
        }
    }
    // A number cell, as most sheets hold quantities.
    sheet.write_number(5, 5, 4).unwrap();
    book.save_to_buffer().unwrap()
}

dual_test!(
    a_messy_equipment_workbook_imports_from_its_header_row_on_the_right_sheet,
    |app| async move {
        let org = setup(&app).await;
        let path = format!("/orgs/{org}/system-configuration/import");
        let res = send(&app, &path, "機器一覧.xlsx", messy_workbook("成田営業所")).await;
        assert_eq!(res.status(), StatusCode::OK);
        let page = res.text().await.unwrap();
        assert!(
            page.contains("シート「機器一覧」の3行目を見出しとして、2 行を読み取りました。"),
            "{page}"
        );
        assert!(
            page.contains("<td>6</td>"),
            "rows keep the sheet's numbers: {page}"
        );
        assert!(page.contains("PRIMERGY RX2540") && page.contains("クライアントPC"));
        // Each value under its own heading, the coded ones in words.
        assert!(
            page.contains("<td>NACCS-SV01</td><td>富士通</td>")
                && page.contains("<td>あり</td><td>更新予定</td>")
                && !page.contains("<td>yes</td>"),
            "{page}"
        );
        // The column left out is said (the row numbers' column is not data, so not named).
        assert!(page.contains("取り込みません: IPアドレス</p>"), "{page}");
        assert_eq!(
            app.count("submissions").await,
            0,
            "nothing stored before 登録"
        );
        assert_eq!(app.audit_count("equipment.imported").await, 0);
        let res = send(&app, &path, "機器一覧.xlsx", messy_workbook("成田営業所")).await;
        let res = confirm_import(&app, res).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let rows = stored_rows(&app).await;
        assert_eq!(rows.len(), 2, "{rows:?}");
        assert_eq!(rows[0]["device_type"], "server");
        assert_eq!(
            rows[0]["model"], "PRIMERGY RX2540",
            "full-width letters read"
        );
        assert_eq!(rows[0]["quantity"], "2", "full-width digits read");
        assert_eq!(rows[0]["naccs"], "yes");
        assert_eq!(rows[0]["notes"], "更新予定");
        assert_eq!(rows[0]["name"], "NACCS-SV01", "the host name kept");
        assert_eq!(rows[1]["name"], "");
        assert_eq!(rows[1]["device_type"], "client_pc");
        assert_eq!(rows[1]["quantity"], "4");
        assert_eq!(rows[1]["location"], "成田営業所");
        assert_eq!(app.audit_count("equipment.imported").await, 1);
    }
);

dual_test!(
    an_unknown_place_is_named_at_the_sheets_own_row_and_column_with_the_valid_names,
    |app| async move {
        let org = setup(&app).await;
        let path = format!("/orgs/{org}/system-configuration/import");
        let res = send(&app, &path, "機器一覧.xlsx", messy_workbook("大阪")).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = res.text().await.unwrap();
        let line = body
            .split("<li>")
            .find(|l| l.starts_with("シート「機器一覧」6行目 G列「設置場所」："))
            .unwrap_or_else(|| panic!("{body}"));
        assert!(
            line.contains("「大阪」という設置場所は登録されていません。登録されている設置場所：")
                && line.contains("本社")
                && line.contains("成田営業所"),
            "{line}"
        );
        assert!(
            !body.contains("1行目"),
            "nothing blamed on the title row: {body}"
        );
        assert!(!body.contains("error."), "no key shown: {body}");
        assert_eq!(app.count("submissions").await, 0, "nothing stored");

        // A 登録 whose rows no longer check (here: a place that does not exist) stores nothing.
        let rows = pack(r#"[["client_pc","","NEC","Mate","","1","大阪","","yes",""]]"#);
        let res = app
            .post(&format!("{path}/confirm"), &[("rows", &rows)])
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(res.text().await.unwrap().contains("登録しませんでした"));
        assert_eq!(app.count("submissions").await, 0, "nothing stored");

        // An organisation without places is told to register them first.
        app.add_user("empty@c.example.jp", "org_admin", Some("CCCCC"))
            .await;
        let other = app.new_browser();
        other.login("empty@c.example.jp", PASSWORD).await;
        let empty_org = app.org_of("empty@c.example.jp").await;
        let token = other.token().await;
        let form = Form::new().text("csrf_token", token).part(
            "file",
            Part::bytes(messy_workbook("成田")).file_name("a.xlsx"),
        );
        let res = other
            .client
            .post(app.url(&format!("/orgs/{empty_org}/system-configuration/import")))
            .header("origin", &app.base)
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = res.text().await.unwrap();
        assert!(
            body.contains("この組織には事業所・拠点がまだ登録されていません"),
            "{body}"
        );

        // A missing column is named at the header row.
        let csv =
            "機器構成一覧\n\nメーカー名,機種・型番,数量,拠点,NACCS接続有無\nNEC,Mate,1,本社,有\n";
        let res = send(&app, &path, "list.csv", csv.as_bytes().to_vec()).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = res.text().await.unwrap();
        assert!(
            body.contains("3行目「機器種別」：必要な列がありません。"),
            "{body}"
        );
        assert_eq!(app.count("submissions").await, 0, "nothing stored");
        // With a heading it does not know, it says which headings it reads for the column, and
        // which of the sheet's it could not read.
        let csv = "機器構成一覧\n\n機械の分類,メーカー名,機種・型番,数量,拠点,NACCS接続有無\nPC,NEC,Mate,1,本社,有\n";
        let res = send(&app, &path, "list.csv", csv.as_bytes().to_vec()).await;
        let body = res.text().await.unwrap();
        assert!(
            body.contains("見出しを「機器種別」「種別」「機器区分」などにしてください。")
                && body.contains("見出しとして読み取れなかった列: 「機械の分類」"),
            "{body}"
        );
        // An asset list without a NACCS column: read as connected, and said so before 登録.
        let csv = "機器構成一覧\n\n種別,メーカー名,機種・型番,数量,拠点\nPC,NEC,Mate,1,本社\nルータ,NEC,IX2215,1,本社\n";
        let res = send(&app, &path, "list.csv", csv.as_bytes().to_vec()).await;
        assert_eq!(res.status(), StatusCode::OK);
        let page = res.text().await.unwrap();
        assert!(
            page.contains("「NACCS接続」の列がないため、すべての機器を NACCS 接続「あり」として読み取りました。"),
            "{page}"
        );
        assert_eq!(
            app.count("submissions").await,
            0,
            "nothing stored before 登録"
        );
    }
);

dual_test!(
    excel_csv_in_shift_jis_and_unicode_text_in_utf16_import,
    |app| async move {
        let org = setup(&app).await;
        let path = format!("/orgs/{org}/system-configuration/import");
        // Excel's "CSV (コンマ区切り)": Shift_JIS, CRLF, the merged title in the first field,
        // empty fields for the rest of the title row, a blank row, full-width digits.
        let csv = "システム構成 使用機器一覧,,,,,,,\r\n,,,,,,,\r\n種別,メーカー名,機種・型番,OS,数量,拠点,NACCS接続有無,備考\r\nサーバ,富士通,RX2540,Windows Server 2022,２,本社,有,\r\n,,,,,,,\r\nルータ,NEC,IX2215,Ver.10,1,成田営業所,無,\"社外接続, VPN\"\r\n";
        let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode(csv);
        let res = send(&app, &path, "機器一覧.csv", sjis.to_vec()).await;
        let res = confirm_import(&app, res).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let rows = stored_rows(&app).await;
        assert_eq!(rows.len(), 2);
        assert_eq!(
            (rows[0]["quantity"].as_str(), rows[1]["location"].as_str()),
            (Some("2"), Some("成田営業所"))
        );
        assert_eq!(rows[1]["notes"], "社外接続, VPN");

        // Excel's "Unicode テキスト": UTF-16LE with a BOM, tab-separated; an error in it is
        // placed at its own row (a blank row 2 counted) and column.
        let text = "種別\tメーカー名\t機種・型番\t数量\t拠点\tNACCS接続有無\r\n\r\nPC\tNEC\tMate\t３\t本社\t有\r\nPC\tNEC\tMate\tたくさん\t本社\t有\r\n";
        let utf16 = |s: &str| {
            let mut b = vec![0xFF, 0xFE];
            b.extend(s.encode_utf16().flat_map(u16::to_le_bytes));
            b
        };
        let res = send(&app, &path, "機器一覧.txt", utf16(text)).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = res.text().await.unwrap();
        assert!(body.contains("4行目 D列「台数」"), "{body}");
        assert_eq!(stored_rows(&app).await.len(), 2, "the earlier import stays");
        let res = send(
            &app,
            &path,
            "機器一覧.txt",
            utf16(&text.replace("たくさん", "1")),
        )
        .await;
        let res = confirm_import(&app, res).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let rows = stored_rows(&app).await;
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0]["quantity"], "3");
    }
);

dual_test!(
    antivirus_sheets_read_era_dates_date_cells_and_free_text_products,
    |app| async move {
        let org = setup(&app).await;
        let today = chrono::Utc::now().date_naive();
        let d = today - chrono::Duration::days(3);
        use chrono::Datelike;
        let reiwa = d.year() - 2018;
        let mut book = Workbook::new();
        let sheet = book.add_worksheet();
        sheet.set_name("PC一覧").unwrap();
        sheet.write_string(0, 0, "ウイルス対策状況").unwrap();
        let headings = [
            "コンピュータ名",
            "設置場所",
            "OS",
            "ソフト名",
            "バージョン",
            "パターンファイル日付",
            "更新頻度",
            "備考",
        ];
        for (c, h) in headings.iter().enumerate() {
            sheet.write_string(1, c as u16, *h).unwrap();
        }
        let rows = [
            [
                "PC-001",
                "本社",
                "Windows 11",
                "ウイルスバスター Corp.",
                "14",
                "",
                "毎日",
                "経理",
            ],
            [
                "PC-002",
                "成田営業所",
                "Windows 11",
                "Microsoft Defender ウイルス対策",
                "4.18",
                &format!("R{}.{}.{}", reiwa, d.month(), d.day()),
                "リアルタイム",
                "",
            ],
            [
                "PC-003",
                "本社",
                "Windows 10",
                "ESET",
                "11",
                &format!("令和{}年{}月{}日", reiwa, d.month(), d.day()),
                "毎日",
                "",
            ],
        ];
        for (r, cells) in rows.iter().enumerate() {
            for (c, v) in cells.iter().enumerate() {
                if !v.is_empty() {
                    sheet.write_string(r as u32 + 2, c as u16, *v).unwrap();
                }
            }
        }
        let date =
            ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day() as u8).unwrap();
        sheet
            .write_datetime_with_format(2, 5, &date, &Format::new().set_num_format("yyyy/mm/dd"))
            .unwrap();
        let bytes = book.save_to_buffer().unwrap();
        let path = format!("/orgs/{org}/antivirus/import");
        // The 確認 page names each product as the report will (the name as written first).
        let preview = send(&app, &path, "pc.xlsx", bytes.clone())
            .await
            .text()
            .await
            .unwrap();
        assert!(
            preview.contains("ウイルスバスター Corp.（トレンドマイクロ）")
                && !preview.contains("定義が古い"),
            "{preview}"
        );
        let res = send(&app, &path, "pc.xlsx", bytes).await;
        let res = confirm_import(&app, res).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let rows = stored_rows(&app).await;
        let ymd = d.format("%Y-%m-%d").to_string();
        assert_eq!(rows.len(), 3);
        for (row, product, text) in [
            (&rows[0], "trend_micro", "ウイルスバスター Corp."),
            (&rows[1], "defender", "Microsoft Defender ウイルス対策"),
            (&rows[2], "eset", "ESET"),
        ] {
            assert_eq!(row["definitions_date"].as_str(), Some(ymd.as_str()));
            assert_eq!(row["product"], product);
            assert_eq!(row["product_other"], text, "the text as written is kept");
        }
        assert_eq!(rows[1]["office"], "成田営業所");
        // Old definitions are said on the 確認 page already.
        let csv = "端末名,設置場所,OS,ソフト名,バージョン,定義ファイル更新日,更新頻度\nPC-9,本社,Windows 11,ESET,11,2020-01-01,毎日\n";
        let preview = send(&app, &path, "pc.csv", csv.as_bytes().to_vec())
            .await
            .text()
            .await
            .unwrap();
        assert!(preview.contains("2020-01-01（定義が古い）"), "{preview}");
    }
);

dual_test!(
    hostile_workbooks_are_refused_with_a_message_and_nothing_stored,
    |app| async move {
        let org = setup(&app).await;
        let path = format!("/orgs/{org}/system-configuration/import");
        let refused = |res: reqwest::Response| async move {
            assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
            res.text().await.unwrap()
        };
        // A lying central directory: declares 1,000 bytes, inflates to 40 MB.
        let huge = vec![b' '; 40 * 1024 * 1024];
        let lying = crate::files::xlsx(&[("xl/worksheets/sheet1.xml", huge.clone(), Some(1000))]);
        let body = refused(send(&app, &path, "a.xlsx", lying).await).await;
        assert!(
            body.contains("展開後のサイズまたはファイル数が上限を超えています"),
            "{body}"
        );
        // An honest bomb: declares its 40 MB, more than one part may inflate to.
        let honest = crate::files::xlsx(&[("xl/worksheets/sheet1.xml", huge, None)]);
        let body = refused(send(&app, &path, "b.xlsx", honest).await).await;
        assert!(
            body.contains("展開後のサイズまたはファイル数が上限を超えています"),
            "{body}"
        );
        // Twenty thousand entries.
        let many: Vec<(String, Vec<u8>, Option<u32>)> = (0..20_000)
            .map(|i| (format!("x/{i}"), vec![], None))
            .collect();
        let parts: Vec<(&str, Vec<u8>, Option<u32>)> = many
            .iter()
            .map(|(n, b, s)| (n.as_str(), b.clone(), *s))
            .collect();
        let body = refused(send(&app, &path, "c.xlsx", crate::files::xlsx(&parts)).await).await;
        assert!(body.contains("上限を超えています"), "{body}");
        // Not a workbook at all, though it is a zip.
        let junk = crate::files::xlsx(&[("hello.txt", b"hello".to_vec(), None)]);
        let body = refused(send(&app, &path, "d.xlsx", junk).await).await;
        assert!(body.contains("Excel ファイルを読み取れません"), "{body}");
        // Entities declared in the XML (a "billion laughs") are not expanded.
        let body = refused(
            send(
                &app,
                &path,
                "g.xlsx",
                with_entity_bomb(&messy_workbook("本社")),
            )
            .await,
        )
        .await;
        assert!(body.contains("Excel ファイルを読み取れません"), "{body}");
        assert!(!body.contains("lollollol"), "{body}");
        // A cell of 40,000 characters, and a sheet of 25,000 rows.
        let csv = format!(
            "種別,メーカー名,型番,数量,拠点,NACCS接続\nPC,{},M,1,本社,有\n",
            "あ".repeat(40_000)
        );
        let body = refused(send(&app, &path, "e.csv", csv.into_bytes()).await).await;
        assert!(body.contains("32,767文字を超えるセルがあります"), "{body}");
        let mut book = Workbook::new();
        let sheet = book.add_worksheet();
        for r in 0..25_000 {
            sheet.write_string(r, 0, "PC").unwrap();
        }
        let body = refused(send(&app, &path, "f.xlsx", book.save_to_buffer().unwrap()).await).await;
        assert!(body.contains("1シート20,000行"), "{body}");
        assert_eq!(app.count("submissions").await, 0, "nothing stored");
        assert_eq!(app.audit_count("equipment.imported").await, 0);
    }
);

dual_test!(
    import_problems_speak_english_with_row_and_column_letter,
    |app| async move {
        let org = setup(&app).await;
        let token = app.browser().token().await;
        let csv = "Equipment list\n\ntype,maker,model,quantity,location,connected to NACCS\nPC,NEC,Mate,1,Narita,yes\n";
        let form = Form::new().text("csrf_token", token).part(
            "file",
            Part::bytes(csv.as_bytes().to_vec()).file_name("list.csv"),
        );
        let res = app
            .client
            .post(app.url(&format!("/orgs/{org}/system-configuration/import")))
            .header("origin", &app.base)
            .header("accept-language", "en-US,en;q=0.9")
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = res.text().await.unwrap();
        assert!(
            body.contains("Row 4, column E (&#34;Location&#34;): There is no location &#34;Narita&#34;. Registered locations: ")
                || body.contains("Row 4, column E (&quot;Location&quot;): There is no location &quot;Narita&quot;. Registered locations: "),
            "{body}"
        );
        assert_eq!(app.count("submissions").await, 0, "nothing stored");
    }
);

/// `book` with its shared strings rewritten to declare nested entities and use them.
fn with_entity_bomb(book: &[u8]) -> Vec<u8> {
    use std::io::{Read, Write};
    let mut input = zip::ZipArchive::new(std::io::Cursor::new(book)).unwrap();
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(vec![]));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for i in 0..input.len() {
        let mut entry = input.by_index(i).unwrap();
        let name = entry.name().unwrap().to_string();
        let mut data = vec![];
        entry.read_to_end(&mut data).unwrap();
        if name == "xl/sharedStrings.xml" {
            let mut entities = String::from("<!ENTITY lol0 \"lol\">");
            for n in 1..10 {
                let prev = format!("&lol{};", n - 1).repeat(10);
                entities.push_str(&format!("<!ENTITY lol{n} \"{prev}\">"));
            }
            let xml = String::from_utf8(data).unwrap().replacen(
                "<sst ",
                &format!("<!DOCTYPE sst [{entities}]><sst "),
                1,
            );
            data = xml.replacen("<t>", "<t>&lol9;", 1).into_bytes();
        }
        out.start_file(name, options).unwrap();
        out.write_all(&data).unwrap();
    }
    out.finish().unwrap().into_inner()
}

/// Rows as the confirmation form carries them (deflated JSON, base64url).
fn pack(json: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(miniz_oxide::deflate::compress_to_vec(json.as_bytes(), 6))
}

dual_test!(
    ten_thousand_rows_of_japanese_text_pass_the_confirmation_step_read_page_by_page_and_more_are_refused,
    |app| async move {
        let org = setup(&app).await;
        let path = format!("/orgs/{org}/system-configuration/import");
        let book = |n: u32| {
            let mut book = Workbook::new();
            let sheet = book.add_worksheet();
            let headings = [
                "種別",
                "メーカー名",
                "機種・型番",
                "数量",
                "拠点",
                "NACCS接続有無",
                "備考",
            ];
            for (c, h) in headings.iter().enumerate() {
                sheet.write_string(0, c as u16, *h).unwrap();
            }
            for r in 1..=n {
                let cells = [
                    "クライアントPC".to_string(),
                    "富士通株式会社".to_string(),
                    format!("ＦＭＶ ＬＩＦＥＢＯＯＫ 第{r}号機"),
                    "１".to_string(),
                    "成田営業所".to_string(),
                    "有".to_string(),
                    "経理部　共用端末（リース契約は令和九年三月まで、更新時は情報システム課へ連絡）".to_string(),
                ];
                for (c, v) in cells.iter().enumerate() {
                    sheet.write_string(r, c as u16, v).unwrap();
                }
            }
            book.save_to_buffer().unwrap()
        };
        let res = send(&app, &path, "機器一覧.xlsx", book(10_000)).await;
        let res = confirm_import(&app, res).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let rows = stored_rows(&app).await;
        assert_eq!(rows.len(), 10_000);
        assert_eq!(rows[9_999]["model"], "FMV LIFEBOOK 第10000号機");
        // A list this long is read page by page, not as a form of 90,000 fields.
        let text = |path: String, lang: &'static str| {
            let app = &app;
            async move {
                app.client
                    .get(app.url(&path))
                    .header("accept-language", lang)
                    .send()
                    .await
                    .unwrap()
                    .text()
                    .await
                    .unwrap()
            }
        };
        let page = text(format!("/orgs/{org}/system-configuration"), "ja").await;
        assert!(page.contains("機器の構成リスト（10000 行）"), "{}", &page[..2000.min(page.len())]);
        assert!(page.contains("1 / 50 ページ") && page.contains("次の行 →"));
        assert!(page.contains("第1号機") && !page.contains("第201号機"));
        assert!(!page.contains("name=\"eq_0_maker\""), "not a form");
        let last = text(format!("/orgs/{org}/system-configuration?rows=50"), "ja").await;
        assert!(last.contains("第10000号機") && last.contains("50 / 50 ページ"));
        let english = text(format!("/orgs/{org}/system-configuration?rows=999"), "en").await;
        assert!(english.contains("Equipment list (10000 rows)") && english.contains("Page 50 of 50"));
        // Saving the draft keeps every row and stores the note.
        let res = app
            .post(
                &format!("/orgs/{org}/system-configuration"),
                &[("keep_rows", "1"), ("note", "拠点ごとの台数は別紙"), ("action", "save")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(stored_rows(&app).await.len(), 10_000, "saving keeps the rows");
        assert!(
            text(format!("/orgs/{org}/system-configuration"), "ja")
                .await
                .contains("拠点ごとの台数は別紙")
        );
        let res = send(&app, &path, "機器一覧.xlsx", book(10_001)).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            res.text()
                .await
                .unwrap()
                .contains("10000 行を超えるため取り込めません")
        );
        assert_eq!(stored_rows(&app).await.len(), 10_000, "the earlier rows stay");
    }
);
