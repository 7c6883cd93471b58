//! The reports that are forms on the pages, sent through `/api/v1`: ID management, in-house
//! measures, the outside-network connection application, gateway logs, an administrator's
//! appointment and the router attestation. Field errors name the JSON fields; nothing is
//! stored from a refused body; what arrives reads in words on the review page.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::api_support::{fields, make_token, org_with_office, post, reviewer_token, send};
use crate::dual_test;
use crate::followup::add_location;
use crate::helpers::TestApp;

/// A token of the signed-in org admin that reports.
async fn reporter(app: &TestApp) -> String {
    make_token(&app.browser(), "forms", &["reports_read", "reports_write"]).await
}

dual_test!(
    an_id_management_report_sent_through_the_api_reads_in_words_on_the_review_page,
    |app| async move {
        let (_, office) = org_with_office(&app).await;
        let token = reporter(&app).await;
        let path = "/api/v1/reports/id_management";
        let bad = json!({"attested": false,
            "offices": [{"office": office, "ids": ["AAAAA001", "ZZZZZ001"]}],
            "away": [{"place": "自宅", "reason": "telework", "from": "2026-04-01", "to": "2026-03-01",
                "ids": ["AAAAA001"], "office": office}]});
        let (status, p) = send(post(&app, &token, path, "id-0", &bad)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
        let named = fields(&p);
        for f in ["attested", "offices.0.ids", "away.0.to"] {
            assert!(named.iter().any(|n| n == f), "{f} in {named:?}");
        }
        assert_eq!(app.count("submissions").await, 0, "nothing stored");
        let good = json!({"attested": true,
            "offices": [{"office": office, "ids": ["AAAAA001", "AAAAA002"]}],
            "away": [{"place": "山田 太郎 自宅（千葉県成田市）", "reason": "telework", "from": "2026-04-01",
                "to": "2027-03-31", "ids": ["AAAAA001"], "office": office}]});
        let (status, receipt) = send(post(&app, &token, path, "id-1", &good)).await;
        assert_eq!(status, StatusCode::CREATED, "{receipt}");
        assert!(
            receipt["receipt_no"]
                .as_str()
                .is_some_and(|r| !r.is_empty())
        );
        assert_eq!(app.audit_count("id_management.submitted").await, 1);
        let (r, _) = reviewer_token(&app, &["review_read"]).await;
        let page = r
            .get(&format!(
                "/review/{}",
                receipt["submission"].as_str().unwrap()
            ))
            .await
            .text()
            .await
            .unwrap();
        for words in [
            "AAAAA001",
            "AAAAA002",
            "山田 太郎 自宅（千葉県成田市）",
            "在宅勤務",
            "本社",
        ] {
            assert!(page.contains(words), "{words}");
        }
        assert!(!page.contains("telework"), "a code is never shown");
    }
);

dual_test!(
    in_house_measures_and_the_outside_connection_application_are_saved_then_submitted,
    |app| async move {
        org_with_office(&app).await;
        let token = reporter(&app).await;
        let one = json!({"measures": [{"area": "servers", "measure": "patches", "status": "implemented",
            "description": "月例で適用"}]});
        let (status, saved) = send(post(
            &app,
            &token,
            "/api/v1/reports/inhouse_measures",
            "ih-1",
            &one,
        ))
        .await;
        assert_eq!(status, StatusCode::OK, "{saved}");
        let submit = "/api/v1/reports/inhouse_measures/submit";
        let (status, p) = send(post(&app, &token, submit, "ih-2", &json!({}))).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        let named = fields(&p);
        assert!(
            named
                .iter()
                .any(|n| n == "measures.network.encryption.status"),
            "{named:?}"
        );
        assert!(
            !named
                .iter()
                .any(|n| n.starts_with("measures.servers.patches")),
            "{named:?}"
        );
        let mut all = vec![];
        for area in ["servers", "network", "clients"] {
            for measure in [
                "subject_auth",
                "access_control",
                "encryption",
                "patches",
                "user_auth",
            ] {
                all.push(
                    json!({"area": area, "measure": measure, "status": "implemented",
                    "description": "多要素認証・権限の定期見直しを実施"}),
                );
            }
        }
        let (status, _) = send(post(
            &app,
            &token,
            "/api/v1/reports/inhouse_measures",
            "ih-3",
            &json!({"measures": all}),
        ))
        .await;
        assert_eq!(status, StatusCode::OK);
        let (status, receipt) = send(post(&app, &token, submit, "ih-4", &json!({}))).await;
        assert_eq!(status, StatusCode::CREATED, "{receipt}");

        let application = json!({"connections": [{"name": "在宅勤務", "connection_type": "remote",
            "method": "modem_ta", "computers": "naccs", "description": "在宅勤務端末から本社への接続"}]});
        let save = "/api/v1/reports/outside_connections";
        let (status, _) = send(post(&app, &token, save, "oc-1", &application)).await;
        assert_eq!(status, StatusCode::OK);
        let submit = "/api/v1/reports/outside_connections/submit";
        let (status, p) = send(post(&app, &token, submit, "oc-2", &json!({}))).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        let named = fields(&p);
        for f in [
            "connections.0.method",
            "connections.0.outside_measures",
            "_form",
        ] {
            assert!(named.iter().any(|n| n == f), "{f} in {named:?}");
        }
        let application = json!({"connections": [{"name": "在宅勤務", "connection_type": "remote",
            "method": "vpn", "computers": "naccs", "description": "在宅勤務端末から本社への IPsec VPN",
            "outside_measures": "ウイルス対策ソフト、OS更新"}]});
        let (status, _) = send(post(&app, &token, save, "oc-3", &application)).await;
        assert_eq!(status, StatusCode::OK);
        let res = reqwest::Client::new()
            .post(app.url("/api/v1/reports/outside_connections/files?role=diagram&name=VPN.pdf"))
            .bearer_auth(&token)
            .header("idempotency-key", "oc-f")
            .header("content-type", "application/octet-stream")
            .body(&b"%PDF-1.7\n%%EOF\n"[..])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        let (status, receipt) = send(post(&app, &token, submit, "oc-4", &json!({}))).await;
        assert_eq!(status, StatusCode::CREATED, "{receipt}");
        assert_eq!(app.audit_count("submission.submitted").await, 2);
    }
);

dual_test!(
    a_gateway_sites_log_report_an_appointment_and_a_router_attestation_go_through_the_api,
    |app| async move {
        let (org, office) = org_with_office(&app).await;
        let site = add_location(&app, &org, "gateway_site", &office, "本社サーバ室").await;
        let token = reporter(&app).await;
        let fields_in = json!({"site": site, "storage": "/var/log/naccs", "retention_months": "6",
            "mechanism": "GW ソフトウェアが記録"});
        let (status, _) = send(post(
            &app,
            &token,
            "/api/v1/reports/gateway_logs",
            "gl-1",
            &fields_in,
        ))
        .await;
        assert_eq!(status, StatusCode::OK);
        let submit = "/api/v1/reports/gateway_logs/submit";
        let (status, p) = send(post(&app, &token, submit, "gl-2", &json!({"site": site}))).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(fields(&p), vec!["retention_months"]);
        // An office is not a gateway site.
        let (status, _) = send(post(&app, &token, submit, "gl-3", &json!({"site": office}))).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let mut fixed: Value = fields_in.clone();
        fixed["retention_months"] = json!("13");
        let (status, _) = send(post(
            &app,
            &token,
            "/api/v1/reports/gateway_logs",
            "gl-4",
            &fixed,
        ))
        .await;
        assert_eq!(status, StatusCode::OK);
        let (status, receipt) =
            send(post(&app, &token, submit, "gl-5", &json!({"site": site}))).await;
        assert_eq!(status, StatusCode::CREATED, "{receipt}");

        let person = json!({"name": "山田 太郎", "name_kana": "ヤマダ タロウ", "department": "通関部",
            "phone": "0476-32-1234", "email": "yamada@a.example.jp", "effective_from": "2026-04-01"});
        let appoint = format!("/api/v1/locations/{office}/administrator");
        let (status, receipt) = send(post(&app, &token, &appoint, "ap-1", &person)).await;
        assert_eq!(status, StatusCode::CREATED, "{receipt}");
        assert_eq!(app.audit_count("appointment.notified").await, 1);
        let router = format!("/api/v1/locations/{office}/router_attestation");
        let half = json!({"lan_dedicated": true, "wan_unused": false, "console_unused": true});
        let (status, p) = send(post(&app, &token, &router, "rt-1", &half)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(fields(&p), vec!["wan_unused"]);
        let all = json!({"lan_dedicated": true, "wan_unused": true, "console_unused": true});
        // No connection recorded at the office yet: no router to attest.
        let (status, _) = send(post(&app, &token, &router, "rt-0", &all)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(app.audit_count("router.attested").await, 0);
        crate::structure::add_connection(&app, &org, &office, "router").await;
        let (status, receipt) = send(post(&app, &token, &router, "rt-2", &all)).await;
        assert_eq!(status, StatusCode::CREATED, "{receipt}");
        assert_eq!(app.audit_count("router.attested").await, 1);

        // Another organisation's location is not found, and nothing is sealed for it.
        app.add_user("kanri@b.example.jp", "org_admin", Some("BBBBB"))
            .await;
        let b = app.new_browser();
        b.login("kanri@b.example.jp", crate::helpers::PASSWORD)
            .await;
        let theirs = make_token(&b, "b", &["reports_write"]).await;
        let (status, _) = send(post(&app, &theirs, &router, "rt-3", &all)).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = send(post(&app, &theirs, &appoint, "ap-2", &person)).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(app.audit_count("router.attested").await, 1);
        assert_eq!(app.audit_count("appointment.notified").await, 1);
    }
);
