//! Every kind of report as its readers see it (issue 8 items 1–3): one realistic report of
//! each kind is submitted, returned, revised and accepted; the review page, the comparison of
//! versions, the receipt and the organisation's copy show the declared values in words, in
//! Japanese and in English, and never an internal key, a code, a UUID or a locale key.

use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use secportal::db::on_db;

use crate::dual_test;
use crate::helpers::{Browser, PASSWORD, ROUTER_OK, TestApp, location};

const EMAIL: &str = "yamada@narita-boeki.example.jp";
const PDF: &[u8] = b"%PDF-1.7\n%%EOF\n";

/// The organisation's places.
pub(crate) struct Org {
    pub id: String,
    pub office: String,
    pub site: String,
}

fn day(offset: i64) -> String {
    (chrono::Utc::now().date_naive() - chrono::Duration::days(offset)).to_string()
}

/// 成田貿易 with 成田営業所 (an office with a router) and 成田第2倉庫 (its gateway site);
/// 山田 太郎 is signed in on the app's main browser.
pub(crate) async fn narita(app: &TestApp) -> Org {
    secportal::cli::add_user(
        &app.state.config,
        EMAIL,
        "org_admin",
        Some("NRT01"),
        PASSWORD,
        Some("山田 太郎"),
    )
    .await
    .unwrap();
    secportal::cli::add_user(
        &app.state.config,
        "shinsa@naccs.example.jp",
        "reviewer",
        None,
        PASSWORD,
        Some("審査 花子"),
    )
    .await
    .unwrap();
    on_db!(app.db(), p => sqlx::query("UPDATE organisations SET name = '成田貿易株式会社'").execute(p).await.map(|_| ())).unwrap();
    let id = app.org_of(EMAIL).await.to_string();
    app.login(EMAIL, PASSWORD).await;
    let res = app
        .post(
            &format!("/orgs/{id}/locations"),
            &[
                ("kind", "office"),
                ("name", "成田営業所"),
                ("address", "千葉県成田市三里塚1-1"),
            ],
        )
        .await;
    let office = location(&res).rsplit('/').next().unwrap().to_string();
    let res = app
        .post(
            &format!("/orgs/{id}/locations"),
            &[
                ("kind", "gateway_site"),
                ("office_id", &office),
                ("name", "成田第2倉庫"),
                ("address", "千葉県成田市古込1-2"),
            ],
        )
        .await;
    let site = location(&res).rsplit('/').next().unwrap().to_string();
    for (place, form, router) in [
        (&office, "router", "NRT-R-001"),
        (&site, "gateway", "NRT-GW-R-01"),
    ] {
        let res = app
            .post(
                &format!("/orgs/{id}/locations/{place}/connections"),
                &[("form", form), ("router_id", router)],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
    }
    Org { id, office, site }
}

/// Uploads files to a draft's upload form.
async fn attach(app: &TestApp, path: &str, role: &str, name: &str, body: &[u8]) {
    let token = app.browser().token().await;
    let form = Form::new()
        .text("csrf_token", token)
        .text("role", role.to_string())
        .part(
            "files",
            Part::bytes(body.to_vec()).file_name(name.to_string()),
        );
    let res = app
        .client
        .post(app.url(path))
        .header("origin", &app.base)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "{path} {name}");
}

/// The newest submission of a kind.
async fn newest(app: &TestApp, kind: &str) -> String {
    let id: uuid::Uuid = on_db!(app.db(), p => sqlx::query_scalar(
        "SELECT id FROM submissions WHERE kind = $1 ORDER BY created_at DESC LIMIT 1",
    )
    .bind(kind)
    .fetch_one(p)
    .await)
    .unwrap();
    id.to_string()
}

/// Posts a form and expects the redirect of a sealed report; answers where it leads.
async fn post_ok(app: &TestApp, path: &str, fields: &[(&str, &str)]) -> String {
    let res = app.post(path, fields).await;
    let to = location(&res);
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "{path}: {}",
        res.text().await.unwrap()
    );
    to
}

/// Submits (round 1) or resubmits after a return (round 2) every kind of report; answers
/// (kind, submission id) in submission order.
pub(crate) async fn submit_all(app: &TestApp, org: &Org, round: u8) -> Vec<(&'static str, String)> {
    let o = &org.id;
    let r2 = round == 2;
    let mut out = vec![];

    // Item 1: the office's administrator.
    let to = post_ok(
        app,
        &format!("/orgs/{o}/locations/{}/appointments", org.office),
        &[
            ("name", "山田 太郎"),
            ("name_kana", "ヤマダ タロウ"),
            ("department", "通関部"),
            ("title", if r2 { "部長" } else { "課長" }),
            ("phone", "0476-32-1234"),
            ("emergency_contact", "090-1234-5678"),
            ("email", EMAIL),
            ("effective_from", "2026-04-01"),
        ],
    )
    .await;
    let id = newest(app, "administrator").await;
    assert_eq!(
        to,
        format!("/orgs/{o}/submissions/{id}/receipt"),
        "a receipt follows"
    );
    out.push(("administrator", id));

    // Item 2: IDs per office and a telework use.
    let ids_field = format!("ids_{}", org.office);
    let to = post_ok(
        app,
        &format!("/orgs/{o}/id-management"),
        &[
            ("attest", "yes"),
            (&ids_field, "NRT01001\nNRT01002"),
            ("away_0_place", "山田 太郎 自宅（千葉県成田市）"),
            ("away_0_reason", "telework"),
            ("away_0_from", "2026-04-01"),
            ("away_0_to", if r2 { "2027-03-31" } else { "2026-09-30" }),
            ("away_0_ids", "NRT01001"),
            ("away_0_office", &org.office),
        ],
    )
    .await;
    let id = newest(app, "id_management").await;
    assert_eq!(
        to,
        format!("/orgs/{o}/submissions/{id}/receipt"),
        "a receipt follows"
    );
    out.push(("id_management", id));

    // Item 4 (before item 3, so the antivirus review checks against it).
    if !r2 {
        attach(
            app,
            &format!("/orgs/{o}/system-configuration/files"),
            "diagram",
            "構成図_成田営業所.pdf",
            PDF,
        )
        .await;
    }
    let mut eq: Vec<(String, String)> = vec![];
    let rows: Vec<[&str; 9]> = vec![
        [
            "client_pc",
            "富士通",
            "ESPRIMO D7012",
            "Windows 11 Pro",
            if r2 { "3" } else { "4" },
            "成田営業所",
            "通関書類作成",
            "yes",
            "",
        ],
        [
            "gateway",
            "NEC",
            "Express5800/R120h",
            "Windows Server 2022",
            "1",
            "成田第2倉庫",
            "NACCS ゲートウェイ",
            "yes",
            "",
        ],
        [
            "router",
            "ヤマハ",
            "RTX1300",
            "Rev.23.01",
            "1",
            "成田営業所",
            "NACCS 接続ルータ",
            "yes",
            "",
        ],
    ];
    let mut rows = rows;
    if r2 {
        rows.push([
            "switch",
            "アライドテレシス",
            "AT-GS950/8",
            "",
            "1",
            "成田営業所",
            "構内 LAN",
            "no",
            "2026年12月追加",
        ]);
    }
    let fields = [
        "device_type",
        "maker",
        "model",
        "os_firmware",
        "quantity",
        "location",
        "role",
        "naccs",
        "notes",
    ];
    for (n, r) in rows.iter().enumerate() {
        for (f, v) in fields.iter().zip(r) {
            eq.push((format!("eq_{n}_{f}"), v.to_string()));
        }
    }
    eq.push(("note".into(), "成田営業所と成田第2倉庫の構成".into()));
    eq.push(("action".into(), "submit".into()));
    let eq: Vec<(&str, &str)> = eq.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    post_ok(app, &format!("/orgs/{o}/system-configuration"), &eq).await;
    out.push((
        "system_configuration",
        newest(app, "system_configuration").await,
    ));

    // Item 3: three computers; two with old definitions the first time.
    let (d1, d2, d3) = (day(1), day(if r2 { 1 } else { 30 }), day(20));
    let mut av: Vec<[&str; 9]> = vec![
        [
            "NRT-PC-001",
            "成田営業所",
            "Windows 11 Pro",
            "trend_micro",
            "ウイルスバスター コーポレートエディション",
            "14.0",
            &d1,
            "daily",
            "",
        ],
        [
            "NRT-PC-002",
            "成田営業所",
            "Windows 11 Pro",
            "defender",
            "",
            "4.18",
            &d2,
            "realtime",
            "",
        ],
    ];
    if r2 {
        av.push([
            "NRT-PC-003",
            "成田営業所",
            "Windows 11 Pro",
            "eset",
            "",
            "11.0",
            &d1,
            "hourly",
            "",
        ]);
    } else {
        av.push([
            "NRT-GW-01",
            "成田営業所",
            "Windows Server 2022",
            "eset",
            "",
            "10.1",
            &d3,
            "hourly",
            "",
        ]);
    }
    let av_fields = [
        "host",
        "office",
        "os",
        "product",
        "product_other",
        "version",
        "definitions_date",
        "update_frequency",
        "last_full_scan",
    ];
    let mut form: Vec<(String, String)> = vec![];
    for (n, r) in av.iter().enumerate() {
        for (f, v) in av_fields.iter().zip(r) {
            form.push((format!("row_{n}_{f}"), v.to_string()));
        }
    }
    form.push(("action".into(), "submit".into()));
    let form: Vec<(&str, &str)> = form.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    post_ok(app, &format!("/orgs/{o}/antivirus"), &form).await;
    out.push(("antivirus", newest(app, "antivirus").await));

    // Item 5: every measure, one still planned the first time.
    let mut form: Vec<(String, String)> = vec![];
    for (area, words) in [
        ("servers", "サーバ"),
        ("network", "ネットワーク機器"),
        ("clients", "端末"),
    ] {
        for measure in [
            "subject_auth",
            "access_control",
            "encryption",
            "patches",
            "user_auth",
        ] {
            let planned = !r2 && area == "clients" && measure == "encryption";
            form.push((
                format!("m_{area}_{measure}_status"),
                if planned { "planned" } else { "implemented" }.into(),
            ));
            form.push((
                format!("m_{area}_{measure}_desc"),
                if planned {
                    "2027年3月までに BitLocker を全台に導入予定".into()
                } else {
                    format!("多要素認証・権限の定期見直しを実施（{words}）")
                },
            ));
        }
    }
    form.push(("action".into(), "submit".into()));
    let form: Vec<(&str, &str)> = form.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    post_ok(app, &format!("/orgs/{o}/inhouse-measures"), &form).await;
    out.push(("inhouse_measures", newest(app, "inhouse_measures").await));

    // Item 6: the site's log mechanism and a month of logs, one send line incomplete.
    let logs = format!("/orgs/{o}/locations/{}/gateway-logs", org.site);
    if r2 {
        attach(
            app,
            &format!("{logs}/files"),
            "logs",
            "送受信ログ_2026年11月_修正版.csv",
            "送受信区分,利用者コード,識別番号,業務コード,年月日時分秒\n送信,NRT01,001,IDA,2026-11-01 09:00:00\n受信,NRT01,,IDA,2026-11-30 17:30:00\n".as_bytes(),
        )
        .await;
    } else {
        attach(
            app,
            &format!("{logs}/files"),
            "logs",
            "送受信ログ_2026年11月.csv",
            "送受信区分,利用者コード,識別番号,業務コード,年月日時分秒\n送信,NRT01,001,IDA,2026-11-01 09:00:00\n送信,NRT01,,IDA,2026-11-01 09:05:00\n受信,NRT01,,IDA,2026-11-30 17:30:00\n".as_bytes(),
        )
        .await;
    }
    post_ok(
        app,
        &logs,
        &[
            ("storage", "成田第2倉庫 ゲートウェイサーバ内 D:\\NACCSLOG"),
            ("retention_months", if r2 { "24" } else { "13" }),
            (
                "mechanism",
                "ゲートウェイソフトの送受信履歴を日次で CSV 出力し、暗号化した外付けディスクへ複製",
            ),
            ("period_from", "2026-11-01"),
            ("period_to", "2026-11-30"),
            ("action", "submit"),
        ],
    )
    .await;
    out.push(("gateway_logs", newest(app, "gateway_logs").await));

    // §7.4.2(1): the office's router.
    post_ok(
        app,
        &format!("/orgs/{o}/locations/{}/router", org.office),
        &ROUTER_OK,
    )
    .await;
    out.push(("router_ports", newest(app, "router_ports").await));

    // §7.4.2(2): a VPN for telework.
    if !r2 {
        attach(
            app,
            &format!("/orgs/{o}/outside-connections/files"),
            "diagram",
            "VPN接続構成図.pdf",
            PDF,
        )
        .await;
    }
    post_ok(
        app,
        &format!("/orgs/{o}/outside-connections"),
        &[
            ("connection_type", "remote"),
            ("method", "vpn"),
            ("computers", "naccs"),
            (
                "description",
                if r2 {
                    "在宅勤務端末から成田営業所への IPsec VPN（RTX1300、証明書認証）"
                } else {
                    "在宅勤務端末から成田営業所への IPsec VPN（RTX1300）"
                },
            ),
            (
                "outside_measures",
                "在宅端末にウイルスバスターを導入し、OS 更新を毎月適用",
            ),
            ("action", "submit"),
        ],
    )
    .await;
    out.push((
        "outside_connections",
        newest(app, "outside_connections").await,
    ));
    out
}

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
    let leaks = leaks(&text);
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
                "成田営業所：機器一覧では NACCS に接続するコンピュータが 4 台ありますが、ウィルス対策の報告は 3 台です。",
                "成田第2倉庫：機器一覧では NACCS に接続するコンピュータが 1 台ありますが、ウィルス対策の報告は 0 台です。",
            ],
        )
        .await;
        let gw1 = &first.iter().find(|(k, _)| *k == "gateway_logs").unwrap().1;
        read(
            &reviewer,
            &format!("/review/{gw1}"),
            &["ログ検査（送受信ログ_2026年11月.csv）：送信の記録で利用者コード・識別番号・業務コードのいずれかがない行 1 件"],
        )
        .await;
        let res = reviewer
            .post(
                &format!("/review/{av1}/comments"),
                &[("body", "NRT-GW-01 は更新後の日付で再提出してください。")],
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

        // The organisation revises what can be revised and submits the rest anew.
        for (kind, id) in &first {
            if matches!(*kind, "administrator" | "id_management" | "router_ports") {
                continue;
            }
            let res = app
                .post(&format!("/orgs/{}/submissions/{id}/revise", org.id), &[])
                .await;
            assert_eq!(res.status(), StatusCode::SEE_OTHER, "{kind}");
        }
        // The revise page says why it came back, with the thread.
        let page = read(
            &app.browser(),
            &format!("/orgs/{}/antivirus", org.id),
            &[
                "の理由",
                "内容を確認してください。\n2行目の記載が不足しています。",
                "NRT-GW-01 は更新後の日付で再提出してください。",
                "審査 花子",
            ],
        )
        .await;
        assert!(page.contains(&format!("/submissions/{av1}/receipt#comments")));
        let second = submit_all(&app, &org, 2).await;

        // The second versions: the diff in the same words, then accepted.
        let av2 = &second.iter().find(|(k, _)| *k == "antivirus").unwrap().1;
        let html = read(
            &reviewer,
            &format!("/review/{av2}"),
            &["第1版からの変更点", "3 台、うち定義が古い 0 台", "NRT-PC-003", "NRT-GW-01", "追加", "削除", "変更"],
        )
        .await;
        assert!(html.contains(&format!("<del>{}</del>", day(30))), "the changed cell shows its old value");
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
        let org_browser = app.browser();
        for lang in ["ja", "en"] {
            set_lang(&org_browser, lang).await;
            for (kind, id) in first.iter().chain(&second) {
                let mut want = declared(kind, lang == "ja");
                want.retain(|w| !w.contains("か月") && !w.contains("months"));
                want.extend(if lang == "ja" {
                    ["受付票", "NACCS センター", "印刷日時", "照合コード"]
                } else {
                    ["Receipt", "NACCS Center", "Printed", "Verification code"]
                });
                let html = read(
                    &org_browser,
                    &format!("/orgs/{}/submissions/{id}/receipt", org.id),
                    &want,
                )
                .await;
                assert!(html.contains("class=\"verify-code\""));
            }
        }
        set_lang(&org_browser, "ja").await;
        let receipt = read(
            &org_browser,
            &format!("/orgs/{}/submissions/{}/receipt", org.id, first[3].1),
            &["差戻し", "内容を確認してください。"],
        )
        .await;
        assert!(receipt.contains("SHA-256"));
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
