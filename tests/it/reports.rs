//! Every kind of report as its readers see it (issue 8 items 1–3): one realistic report of
//! each kind is submitted, returned, revised and accepted; the review page, the comparison of
//! versions, the receipt and the organisation's copy show the declared values in words, in
//! Japanese and in English, and never an internal key, a code, a UUID or a locale key.

use reqwest::StatusCode;

use crate::dual_test;
use crate::helpers::{Browser, PASSWORD, ROUTER_OK, location};
use crate::report_data::{EMAIL, day, narita, submit_all};

/// The text a person reads in a page's main part (tags dropped, entities decoded).
pub(crate) fn visible(html: &str) -> String {
    let start = html.find("<main").unwrap_or(0);
    let end = html.rfind("</main>").unwrap_or(html.len());
    let mut out = String::new();
    let mut in_tag = false;
    for c in html[start..end].chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    let mut text = String::new();
    let mut rest = out.as_str();
    while let Some(i) = rest.find('&') {
        text.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(j) = rest.find(';').filter(|j| *j < 10) else {
            text.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..j];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            e if e.starts_with("#x") => u32::from_str_radix(&e[2..], 16)
                .ok()
                .and_then(char::from_u32),
            e if e.starts_with('#') => e[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match decoded {
            Some(c) => text.push(c),
            None => text.push_str(&rest[..=j]),
        }
        rest = &rest[j + 1..];
    }
    text.push_str(rest);
    text
}

/// What in a page's text looks like a UUID, a locale key or a code (snake_case).
pub(crate) fn leaks(text: &str) -> Vec<String> {
    let mut found = vec![];
    let chars: Vec<char> = text.chars().collect();
    let is_hex = |c: char| c.is_ascii_digit() || ('a'..='f').contains(&c);
    for i in 0..chars.len().saturating_sub(35) {
        let w = &chars[i..i + 36];
        if w.iter().enumerate().all(|(k, c)| {
            if [8, 13, 18, 23].contains(&k) {
                *c == '-'
            } else {
                is_hex(c.to_ascii_lowercase())
            }
        }) {
            found.push(w.iter().collect());
        }
    }
    let word = |c: char| c.is_ascii_lowercase() || c == '_' || c == '.';
    let mut run = String::new();
    for c in text.chars().chain(std::iter::once(' ')) {
        if word(c) {
            run.push(c);
            continue;
        }
        let r: Vec<char> = run.chars().collect();
        let key = (1..r.len().saturating_sub(1)).any(|k| {
            r[k] == '.' && (r[k - 1].is_ascii_lowercase() || r[k - 1] == '_') && r[k + 1] != '.'
        });
        let snake = (1..r.len().saturating_sub(1))
            .any(|k| r[k] == '_' && r[k - 1].is_ascii_lowercase() && r[k + 1].is_ascii_lowercase());
        if key || snake {
            found.push(run.clone());
        }
        run.clear();
    }
    found
}

/// The stored codes (enum words) a Japanese page shows as they are: no lowercase code has a
/// place in its text (an English page's words are checked by [`leaks`] and the declared values).
pub(crate) fn codes_in(text: &str) -> Vec<String> {
    const CODES: [&str; 28] = [
        "telework",
        "satellite",
        "disaster",
        "trend_micro",
        "defender",
        "eset",
        "mcafee",
        "symantec",
        "daily",
        "hourly",
        "realtime",
        "weekly",
        "implemented",
        "planned",
        "client_pc",
        "gateway_site",
        "office",
        "modem_ta",
        "lan_dedicated",
        "wan_unused",
        "console_unused",
        "administrator",
        "id_management",
        "router_ports",
        "submitted",
        "returned",
        "accepted",
        "under_review",
    ];
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| CODES.contains(w))
        .map(str::to_string)
        .collect()
}

/// [`codes_in`] for a page in Japanese (nothing for one in English).
fn codes_in_page(html: &str, text: &str) -> Vec<String> {
    match html.contains("<html lang=\"ja\"") {
        true => codes_in(text),
        false => vec![],
    }
}

/// Reads a page as its user: the declared values are there, and nothing internal is.
pub(crate) async fn read(b: &Browser<'_>, path: &str, want: &[&str]) -> String {
    let res = b.get(path).await;
    assert_eq!(res.status(), StatusCode::OK, "{path}");
    let html = res.text().await.unwrap();
    let text = visible(&html).replace(EMAIL, "");
    if let Ok(dir) = std::env::var("DUMP_PAGES") {
        let name: String = path
            .chars()
            .map(|c| if c.is_alphanumeric() { c } else { '_' })
            .collect();
        std::fs::write(format!("{dir}/{name}_{}.txt", text.len()), &text).unwrap();
    }
    let mut leaks = leaks(&text);
    leaks.extend(codes_in_page(&html, &text));
    assert!(leaks.is_empty(), "{path} shows {leaks:?}:\n{text}");
    for w in want {
        assert!(text.contains(w), "{path} lacks {w:?}:\n{text}");
    }
    html
}

/// Switches a browser's language.
pub(crate) async fn set_lang(b: &Browser<'_>, lang: &str) {
    let res = b.post("/lang", &[("lang", lang), ("next", "/home")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

/// The declared values of each kind that every view of it shows, per language.
fn declared(kind: &str, ja: bool) -> Vec<&'static str> {
    let mut v = match kind {
        "administrator" => vec![
            "山田 太郎",
            "ヤマダ タロウ",
            "通関部",
            "0476-32-1234",
            "成田営業所",
        ],
        "id_management" => vec![
            "NRT01001",
            "NRT01002",
            "山田 太郎 自宅（千葉県成田市）",
            "成田営業所",
        ],
        "antivirus" => vec![
            "NRT-PC-001",
            "ウイルスバスター コーポレートエディション",
            "Windows 11 Pro",
        ],
        "system_configuration" => vec!["ESPRIMO D7012", "成田第2倉庫", "構成図_成田営業所.pdf"],
        "inhouse_measures" => vec!["多要素認証・権限の定期見直しを実施"],
        "gateway_logs" => vec!["成田第2倉庫", "送受信ログ_2026年11月.csv", "D:\\NACCSLOG"],
        "router_ports" => vec!["成田営業所", "NRT-R-001"],
        "outside_connections" => vec![
            "在宅勤務端末から成田営業所への IPsec VPN",
            "VPN接続構成図.pdf",
        ],
        _ => vec![],
    };
    v.extend(match (kind, ja) {
        ("id_management", true) => vec!["在宅勤務"],
        ("id_management", false) => vec!["Telework"],
        ("antivirus", true) => vec!["トレンドマイクロ", "毎日", "リアルタイム"],
        ("antivirus", false) => vec!["Trend Micro", "Daily", "Real time"],
        ("system_configuration", true) => vec!["クライアントPC", "ゲートウェイコンピュータ"],
        ("system_configuration", false) => vec!["Client PC", "Gateway computer"],
        ("inhouse_measures", true) => vec!["主体認証", "クライアント端末", "実施済み"],
        ("inhouse_measures", false) => vec!["Subject authentication", "In place"],
        ("gateway_logs", true) => vec!["13 か月"],
        ("gateway_logs", false) => vec!["13 months"],
        ("router_ports", true) => vec!["WAN ポートは使用していない。", "確認済み"],
        ("router_ports", false) => vec!["The WAN port is not used.", "Confirmed"],
        ("outside_connections", true) => vec!["リモート接続", "NACCS 業務用コンピュータ"],
        ("outside_connections", false) => vec!["Remote connection"],
        _ => vec![],
    });
    v
}

dual_test!(
    every_kind_of_report_reads_in_words_on_the_review_page_the_diff_the_receipt_and_the_organisations_copy,
    |app| async move {
        let org = narita(&app).await;
        let first = submit_all(&app, &org, 1).await;
        let reviewer = app.new_browser();
        reviewer.login("shinsa@naccs.example.jp", PASSWORD).await;

        // The reviewer reads each first version in both languages and returns it.
        for lang in ["ja", "en"] {
            set_lang(&reviewer, lang).await;
            for (kind, id) in &first {
                read(&reviewer, &format!("/review/{id}"), &declared(kind, lang == "ja")).await;
            }
        }
        set_lang(&reviewer, "ja").await;
        let av1 = &first.iter().find(|(k, _)| *k == "antivirus").unwrap().1;
        read(
            &reviewer,
            &format!("/review/{av1}"),
            &[
                "3 台、うち定義が古い 2 台",
                "定義が古い",
                "成田営業所：機器の構成リストでは NACCS に接続するコンピュータが 4 台ありますが、ウィルス対策の報告は 3 台です。",
                "成田第2倉庫：機器の構成リストでは NACCS に接続するコンピュータが 1 台ありますが、ウィルス対策の報告は 0 台です。",
            ],
        )
        .await;
        // The queue flags it before it is opened (the counts as they stood when it was sent).
        let queue = reviewer.html("/review").await;
        let line = queue
            .split("<tr")
            .find(|r| r.contains(&format!("/review/{av1}")))
            .unwrap_or_default();
        assert!(
            line.contains("機器の構成リストと台数が違う") && line.contains("定義が古い PC あり"),
            "{line}"
        );
        // The measure not yet in place is named, not only counted.
        let ih1 = &first.iter().find(|(k, _)| *k == "inhouse_measures").unwrap().1;
        read(
            &reviewer,
            &format!("/review/{ih1}"),
            &["未実施（計画あり）：クライアント端末の暗号化"],
        )
        .await;
        let gw1 = &first.iter().find(|(k, _)| *k == "gateway_logs").unwrap().1;
        read(
            &reviewer,
            &format!("/review/{gw1}"),
            &[
                "ログ検査（送受信ログ_2026年11月.csv）：送信の記録で識別番号がない行 1 件",
                // The log's kept check, in place of the table of sealed totals (shown once).
                "送信の記録で識別番号がない行: 1 行（3 行目）",
            ],
        )
        .await;
        let res = reviewer
            .post(
                &format!("/review/{av1}/comments"),
                &[("body", "NRT-GW-01 は更新後の日付で再提出してください。")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let adm1 = &first.iter().find(|(k, _)| *k == "administrator").unwrap().1;
        let res = reviewer
            .post(
                &format!("/review/{adm1}/comments"),
                &[("body", "役職の記載を確認してください。\n辞令の写しは不要です。")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        for (i, (_, id)) in first.iter().enumerate() {
            let res = reviewer
                .post(
                    &format!("/review/{id}/decide"),
                    &[("decision", "returned"), ("reason", "内容を確認してください。\n2行目の記載が不足しています。")],
                )
                .await;
            assert_eq!(res.status(), StatusCode::SEE_OTHER);
            let page = reviewer.get(&location(&res)).await.text().await.unwrap();
            // After a decision, the next waiting one is a click away (none after the last).
            match first.get(i + 1) {
                Some((_, next)) => assert!(
                    page.contains("次の審査待ちを開く") && page.contains(&format!("/review/{next}")),
                    "{page}"
                ),
                None => assert!(page.contains("ほかに審査待ちの提出はありません。")),
            }
        }

        // The organisation revises every returned report from its receipt: the reports of a
        // place on their own pages, the forms of items 1, 2 and §7.4.2(1) on a revision page.
        let org_browser = app.browser();
        let mut revising = vec![];
        for (kind, id) in &first {
            let receipt = read(
                &org_browser,
                &format!("/orgs/{}/submissions/{id}/receipt", org.id),
                &["修正して再提出する"],
            )
            .await;
            assert!(!receipt.contains("審査 花子"), "{kind}: the reviewer is not named");
            let res = app
                .post(&format!("/orgs/{}/submissions/{id}/revise", org.id), &[])
                .await;
            assert_eq!(res.status(), StatusCode::SEE_OTHER, "{kind}");
            let to = location(&res);
            let form = matches!(*kind, "administrator" | "id_management" | "router_ports");
            assert_eq!(to.ends_with("/edit"), form, "{kind}: {to}");
            revising.push((*kind, to));
        }
        // A receipt of a returned report being revised leads back to the revision.
        read(
            &org_browser,
            &format!("/orgs/{}/submissions/{adm1}/receipt", org.id),
            &["修正を続ける"],
        )
        .await;
        // The revise pages say why it came back, with the thread, the Center unnamed.
        for (kind, page) in &revising {
            let mut want = vec!["の理由", "内容を確認してください。\n2行目の記載が不足しています。", "NACCS センター"];
            match *kind {
                "antivirus" => want.push("NRT-GW-01 は更新後の日付で再提出してください。"),
                "administrator" => want.extend(["役職の記載を確認してください。\n辞令の写しは不要です。", "第2版として提出されます。"]),
                _ => {}
            }
            let html = read(&org_browser, page, &want).await;
            assert!(!html.contains("審査 花子") && !html.contains("shinsa@"), "{page}: the reviewer is not named");
            assert!(html.contains("/receipt#comments"), "{page}");
            if *kind == "administrator" {
                assert!(html.contains("value=\"山田 太郎\"") && html.contains("value=\"課長\""), "filled in from the returned version");
            }
        }
        set_lang(&org_browser, "en").await;
        let adm_page = &revising.iter().find(|(k, _)| *k == "administrator").unwrap().1;
        let html = read(&org_browser, adm_page, &["Why", "NACCS Center", "Go to confirmation", "It will be submitted as version 2."]).await;
        assert!(!html.contains("審査 花子") && html.contains("value=\"ヤマダ タロウ\""));
        set_lang(&org_browser, "ja").await;
        let second = submit_all(&app, &org, 2).await;
        // Each is version 2 of its series, and went to the reviewer of version 1.
        for (kind, id) in &second {
            let id: uuid::Uuid = id.parse().unwrap();
            let (version, assignee): (i64, Option<uuid::Uuid>) = secportal::db::on_db!(app.db(), p => sqlx::query_as(
                "SELECT version, assigned_to FROM submissions WHERE id = $1",
            ).bind(id).fetch_one(p).await).unwrap();
            assert_eq!(version, 2, "{kind}");
            assert!(assignee.is_some(), "{kind}: the same reviewer has it");
        }

        // The second versions: the diff in the same words, then accepted.
        let av2 = &second.iter().find(|(k, _)| *k == "antivirus").unwrap().1;
        let html = read(
            &reviewer,
            &format!("/review/{av2}"),
            &["第1版からの変更点", "3 台（定義ファイルが 7 日より古いコンピュータはありません）", "NRT-PC-003", "NRT-GW-01", "追加", "削除", "変更"],
        )
        .await;
        assert!(html.contains(&format!("<del>{}</del>", day(30))), "the changed cell shows its old value");
        // The forms' versions compare in the same words.
        let adm2 = &second.iter().find(|(k, _)| *k == "administrator").unwrap().1;
        let html = read(&reviewer, &format!("/review/{adm2}"), &["第1版からの変更点", "課長", "部長", "変更"]).await;
        assert!(html.contains("<del>課長</del>"), "{html}");
        let idm2 = &second.iter().find(|(k, _)| *k == "id_management").unwrap().1;
        read(&reviewer, &format!("/review/{idm2}"), &["第1版からの変更点", "2027-03-31", "2026-09-30"]).await;
        let rp2 = &second.iter().find(|(k, _)| *k == "router_ports").unwrap().1;
        read(&reviewer, &format!("/review/{rp2}"), &["第1版", "確認済み"]).await;
        let eq2 = &second.iter().find(|(k, _)| *k == "system_configuration").unwrap().1;
        let html = read(&reviewer, &format!("/review/{eq2}"), &["AT-GS950/8", "追加", "変更"]).await;
        assert!(html.contains("<del>4</del>") && html.contains("<ins>3</ins>"), "{html}");
        for lang in ["en", "ja"] {
            set_lang(&reviewer, lang).await;
            for (kind, id) in &second {
                let mut want = declared(kind, lang == "ja");
                if *kind == "gateway_logs" {
                    want.retain(|w| !w.contains("か月") && !w.contains("months"));
                    want.push("送受信ログ_2026年11月_修正版.csv");
                }
                read(&reviewer, &format!("/review/{id}"), &want).await;
            }
        }
        for (_, id) in &second {
            let res = reviewer
                .post(&format!("/review/{id}/decide"), &[("decision", "accepted"), ("reason", "")])
                .await;
            assert_eq!(res.status(), StatusCode::SEE_OTHER);
        }

        // The receipts (the organisation's copy) in both languages, every version.
        for lang in ["ja", "en"] {
            set_lang(&org_browser, lang).await;
            for (kind, id) in first.iter().chain(&second) {
                let mut want = declared(kind, lang == "ja");
                want.retain(|w| !w.contains("か月") && !w.contains("months"));
                want.extend(if lang == "ja" {
                    ["受付票", "NACCS センター", "印刷日時", "照合コード"]
                } else {
                    ["Receipt", "NACCS Center", "printed at", "Verification code"]
                });
                let html = read(
                    &org_browser,
                    &format!("/orgs/{}/submissions/{id}/receipt", org.id),
                    &want,
                )
                .await;
                assert!(html.contains("class=\"verify-code\""));
                assert!(!html.contains("審査 花子"), "{kind}: the reviewer is not named");
            }
            // 提出履歴: every version of every kind, in words.
            let html = read(
                &org_browser,
                &format!("/orgs/{}/submissions", org.id),
                &if lang == "ja" { ["管理責任者", "受理"] } else { ["Responsible administrator", "Accepted"] },
            )
            .await;
            assert!(!html.contains("審査 花子"));
        }
        set_lang(&org_browser, "ja").await;
        let receipt = read(
            &org_browser,
            &format!("/orgs/{}/submissions/{}/receipt", org.id, first[3].1),
            &["差戻し", "内容を確認してください。"],
        )
        .await;
        // An antivirus report has no files: its receipt does not speak of checking them.
        assert!(
            receipt.contains("この受付内容は封印されており、変更できません。")
                && !receipt.contains("SHA-256 で照合")
        );
    }
);

/// The code printed on a receipt.
pub(crate) fn code_in(html: &str) -> String {
    let start = html.find("class=\"verify-code\">").unwrap() + "class=\"verify-code\">".len();
    html[start..start + 11].to_string()
}

/// The receipt number printed on a receipt.
fn receipt_no_in(html: &str) -> String {
    let start = html.find("class=\"receipt-no\">").unwrap() + "class=\"receipt-no\">".len();
    html[start..].chars().take_while(|c| *c != '<').collect()
}

dual_test!(
    center_staff_confirm_a_printed_receipt_by_its_code_and_a_wrong_code_says_only_that_it_does_not_match,
    |app| async move {
        let org = narita(&app).await;
        let res = app
            .post(
                &format!("/orgs/{}/locations/{}/router", org.id, org.office),
                &ROUTER_OK,
            )
            .await;
        let receipt = app.get(&location(&res)).await.text().await.unwrap();
        let (number, code) = (receipt_no_in(&receipt), code_in(&receipt));
        assert_eq!(code.len(), 11, "{code}");
        // Organisations cannot use the check.
        assert_eq!(app.get("/review/verify").await.status(), StatusCode::FORBIDDEN);
        let c = app.new_browser();
        c.login("shinsa@naccs.example.jp", PASSWORD).await;
        assert_eq!(c.get("/review/verify").await.status(), StatusCode::OK);
        // Typed as read out: lower case, no dash.
        let typed = code.replace('-', "").to_lowercase();
        let res = c
            .post("/review/verify", &[("receipt", &number.to_lowercase()), ("code", &typed)])
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        let page = res.text().await.unwrap();
        assert!(
            page.contains(&format!("受付票 {number} は本物です"))
                && page.contains("WAN ポートは使用していない。")
                && page.contains("成田営業所"),
            "{page}"
        );
        assert_eq!(app.audit_count("receipt.checked").await, 1);
        // A wrong code and an unknown number get the same answer; both are recorded.
        let wrong = if code.starts_with('0') { "1" } else { "0" }.to_string() + &code[1..];
        let message = "受付番号と照合コードの組み合わせが一致しません。";
        for (n, k) in [(number.as_str(), wrong.as_str()), ("SR-1999-000001", code.as_str())] {
            let res = c.post("/review/verify", &[("receipt", n), ("code", k)]).await;
            assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
            let page = res.text().await.unwrap();
            assert!(page.contains(message) && !page.contains("本物です"), "{page}");
        }
        assert_eq!(app.audit_count("receipt.check_failed").await, 2);
        // Empty fields are named, and nothing is recorded.
        let res = c.post("/review/verify", &[("receipt", " "), ("code", "")]).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(res.text().await.unwrap().contains("入力してください。"));
        assert_eq!(app.audit_count("receipt.check_failed").await, 2);
        // Ten failures in a row stop the checks for a while, even with the right code.
        for _ in 0..8 {
            c.post("/review/verify", &[("receipt", &number), ("code", &wrong)]).await;
        }
        let res = c
            .post("/review/verify", &[("receipt", &number), ("code", &code)])
            .await;
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
        let page = res.text().await.unwrap();
        assert!(page.contains("しばらく照合できません") && !page.contains("本物です"));
        assert_eq!(app.audit_count("receipt.check_throttled").await, 1);
        assert_eq!(app.audit_count("receipt.checked").await, 1);
    }
);
