//! One realistic organisation (成田貿易, 成田営業所 and its gateway site 成田第2倉庫) and one
//! report of every kind, as its people would fill them in: the data the report-view tests read.

use reqwest::StatusCode;
use secportal::db::on_db;

use crate::helpers::{PASSWORD, ROUTER_OK, TestApp, attach, location};

pub(crate) const EMAIL: &str = "yamada@narita-boeki.example.jp";
const PDF: &[u8] = b"%PDF-1.7\n%%EOF\n";

/// The organisation's places.
pub(crate) struct Org {
    pub id: String,
    pub office: String,
    pub site: String,
}

pub(crate) fn day(offset: i64) -> String {
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

/// Submits a form's fields (item 1, 2 or §7.4.2(1)): on its own page the first time, on the
/// revision page of its returned version (opened already) after a return, through the 確認
/// step; expects the redirect to the new receipt.
async fn post_form(
    app: &TestApp,
    path: &str,
    kind: &str,
    revising: bool,
    fields: &[(&str, &str)],
) -> String {
    if !revising {
        return post_ok(app, path, fields).await;
    }
    let o = path.split('/').nth(2).unwrap().to_string();
    let draft = newest(app, kind).await;
    let mut all = fields.to_vec();
    all.push(("action", "submit"));
    let to = post_ok(app, &format!("/orgs/{o}/submissions/{draft}/edit"), &all).await;
    assert_eq!(
        to,
        format!("/orgs/{o}/submissions/{draft}/receipt"),
        "{kind}: sealed through the 確認 step"
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
    let to = post_form(
        app,
        &format!("/orgs/{o}/locations/{}/appointments", org.office),
        "administrator",
        r2,
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
    let to = post_form(
        app,
        &format!("/orgs/{o}/id-management"),
        "id_management",
        r2,
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
    for (n, r) in rows.iter().enumerate() {
        // Every field but the device's own name (optional: these rows have none).
        let fields = secportal::domain::equipment::FIELDS
            .iter()
            .filter(|f| **f != "name");
        for (f, v) in fields.zip(r) {
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
    post_form(
        app,
        &format!("/orgs/{o}/locations/{}/router", org.office),
        "router_ports",
        r2,
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
            ("c0_name", "在宅勤務の VPN"),
            ("c0_connection_type", "remote"),
            ("c0_method", "vpn"),
            ("c0_computers", "naccs"),
            (
                "c0_description",
                if r2 {
                    "在宅勤務端末から成田営業所への IPsec VPN（RTX1300、証明書認証）"
                } else {
                    "在宅勤務端末から成田営業所への IPsec VPN（RTX1300）"
                },
            ),
            (
                "c0_outside_measures",
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
