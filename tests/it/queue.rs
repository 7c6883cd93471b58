//! The review queue at size: pages read from an index in keyset order under every filter,
//! and the next/previous links walk the same rows as the filter would give all at once.

use secportal::db::on_db;
use secportal::db::queue::{Cursor, QueueFilter, plan};
use uuid::Uuid;

use crate::dual_test;
use crate::helpers::{PASSWORD, TestApp};

const KINDS: [&str; 6] = [
    "system_configuration",
    "antivirus",
    "id_management",
    "router_ports",
    "outside_connections",
    "inhouse_measures",
];
const FORMS: [&str; 3] = ["peer_to_peer", "router", "gateway"];
const ORGS: i64 = 20;

/// Submission `i` of the seed, as the SQL below makes it.
struct Seeded {
    i: i64,
    org: i64,
    kind: &'static str,
    waiting: bool,
    assigned: bool,
}

fn seeded(i: i64) -> Seeded {
    Seeded {
        i,
        org: i % ORGS,
        kind: KINDS[(i % 6) as usize],
        waiting: i % 3 != 0,
        assigned: i % 5 == 0,
    }
}

/// `n` sealed submissions, one a second from 2026-01-01, over 20 organisations (`Q0000`…);
/// every third accepted, every fifth taken by `reviewer`; organisation k has one active
/// connection of form k mod 3.
pub(crate) async fn seed(app: &TestApp, n: i64, reviewer: Uuid) {
    let kinds = KINDS.map(|k| format!("'{k}'")).join(", ");
    let forms = FORMS.map(|k| format!("'{k}'")).join(", ");
    let (orgs, locations, connections, submissions) = match app.state.db.backend() {
        "sqlite" => (
            format!(
                "WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k WHERE i < {ORGS} - 1) \
                 INSERT INTO organisations (id, name, user_code, created_at) \
                 SELECT randomblob(16), 'Org ' || i, printf('Q%04d', i), '2026-01-01T00:00:00+00:00' FROM k"
            ),
            "INSERT INTO locations (id, org_id, kind, name, address, active, version, created_at, updated_at) \
             SELECT randomblob(16), id, 'office', 'HQ', '-', TRUE, 1, created_at, created_at FROM organisations WHERE user_code LIKE 'Q%'"
                .to_string(),
            format!(
                "INSERT INTO connections (id, org_id, location_id, form, router_id, active, created_at) \
                 SELECT randomblob(16), l.org_id, l.id, json_extract(json_array({forms}), '$[' || (CAST(substr(o.user_code, 2) AS INTEGER) % 3) || ']'), \
                 'R', TRUE, l.created_at FROM locations l JOIN organisations o ON o.id = l.org_id WHERE o.user_code LIKE 'Q%'"
            ),
            format!(
                "WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k WHERE i < {n} - 1) \
                 INSERT INTO submissions (id, org_id, kind, scope_kind, state, version, data, catalogue_revision, submitted_at, \
                 created_at, receipt_no, snapshot, assigned_to) \
                 SELECT randomblob(16), (SELECT o.id FROM organisations o WHERE o.user_code = printf('Q%04d', i % {ORGS})), \
                 json_extract(json_array({kinds}), '$[' || (i % 6) || ']'), 'organisation', \
                 CASE WHEN i % 3 = 0 THEN 'accepted' ELSE 'submitted' END, 1, '{{}}', 1, \
                 strftime('%Y-%m-%dT%H:%M:%S+00:00', 1767225600 + i, 'unixepoch'), '2026-01-01T00:00:00+00:00', \
                 printf('SR-2026-%06d', i), '{{}}', CASE WHEN i % 5 = 0 THEN $1 END FROM k"
            ),
        ),
        _ => (
            format!(
                "INSERT INTO organisations (id, name, user_code, created_at) \
                 SELECT gen_random_uuid(), 'Org ' || i, 'Q' || lpad(i::text, 4, '0'), timestamptz '2026-01-01' \
                 FROM generate_series(0, {ORGS} - 1) i"
            ),
            "INSERT INTO locations (id, org_id, kind, name, address, active, version, created_at, updated_at) \
             SELECT gen_random_uuid(), id, 'office', 'HQ', '-', TRUE, 1, created_at, created_at FROM organisations WHERE user_code LIKE 'Q%'"
                .to_string(),
            format!(
                "INSERT INTO connections (id, org_id, location_id, form, router_id, active, created_at) \
                 SELECT gen_random_uuid(), l.org_id, l.id, (ARRAY[{forms}])[1 + substr(o.user_code, 2)::int % 3], 'R', TRUE, l.created_at \
                 FROM locations l JOIN organisations o ON o.id = l.org_id WHERE o.user_code LIKE 'Q%'"
            ),
            format!(
                "INSERT INTO submissions (id, org_id, kind, scope_kind, state, version, data, catalogue_revision, submitted_at, \
                 created_at, receipt_no, snapshot, assigned_to) \
                 SELECT gen_random_uuid(), (SELECT o.id FROM organisations o WHERE o.user_code = 'Q' || lpad((i % {ORGS})::text, 4, '0')), \
                 (ARRAY[{kinds}])[1 + i % 6], 'organisation', CASE WHEN i % 3 = 0 THEN 'accepted' ELSE 'submitted' END, 1, '{{}}', 1, \
                 timestamptz '2026-01-01' + i * interval '1 second', timestamptz '2026-01-01', \
                 'SR-2026-' || lpad(i::text, 6, '0'), '{{}}', CASE WHEN i % 5 = 0 THEN $1 END FROM generate_series(0, {n} - 1) i"
            ),
        ),
    };
    on_db!(app.db(), p => {
        for sql in [orgs, locations, connections] {
            sqlx::query(sqlx::AssertSqlSafe(sql)).execute(p).await.unwrap();
        }
        sqlx::query(sqlx::AssertSqlSafe(submissions)).bind(reviewer).execute(p).await.unwrap();
        sqlx::query("ANALYZE").execute(p).await.unwrap();
    });
}

pub(crate) async fn reviewer(app: &TestApp) -> Uuid {
    app.add_user("reviewer@center.example.jp", "reviewer", None)
        .await;
    secportal::db::users::by_email(app.db(), "reviewer@center.example.jp")
        .await
        .unwrap()
        .unwrap()
        .id
}

/// Every filter combination the page can ask for (state waiting, as most often).
pub(crate) fn every_filter(me: Uuid) -> Vec<QueueFilter> {
    let mut out = Vec::new();
    for kind in [None, Some("antivirus")] {
        for org in [None, Some("Q0003")] {
            for who in 0..3 {
                for age in [false, true] {
                    for form in [None, Some("router")] {
                        out.push(QueueFilter {
                            kind: kind.map(str::to_string),
                            state: None,
                            org_code: org.map(str::to_string),
                            submitted_before: age
                                .then(|| chrono::Utc::now() - chrono::Duration::days(30)),
                            assigned_to: (who == 1).then_some(me),
                            unassigned: who == 2,
                            form: form.map(str::to_string),
                        });
                    }
                }
            }
        }
    }
    out
}

dual_test!(
    every_filter_combination_reads_its_page_from_a_queue_index_without_sorting,
    |app| async move {
        let me = reviewer(&app).await;
        seed(&app, 20_000, me).await;
        let at: chrono::DateTime<chrono::Utc> = "2026-01-01T02:46:40Z".parse().unwrap();
        let id = Uuid::max();
        let mut checked = 0;
        for f in every_filter(me) {
            for cursor in [
                None,
                Some(Cursor::After(at, id)),
                Some(Cursor::Before(at, id)),
            ] {
                let steps = plan(app.db(), &f, cursor, 50).await.unwrap();
                let text = steps.join("\n");
                let indexed = steps.iter().any(|s| {
                    // SQLite: "SEARCH s USING INDEX submissions_queue_kind (…)";
                    // PostgreSQL: "Index Scan [Backward] using submissions_queue_kind on submissions s".
                    (s.contains("SEARCH s USING") || s.contains("on submissions s"))
                        && s.contains("INDEX submissions_queue")
                        || s.contains("using submissions_queue")
                });
                let sorted = steps.iter().any(|s| {
                    s.contains("TEMP B-TREE FOR ORDER BY")
                        || s.trim_start().starts_with("Sort")
                        || s.contains("->  Sort")
                        || s.contains("Incremental Sort")
                });
                let scanned = steps.iter().any(|s| {
                    s.trim_start().starts_with("SCAN s") || s.contains("Seq Scan on submissions")
                });
                let equalities = usize::from(f.kind.is_some())
                    + usize::from(f.org_code.is_some())
                    + usize::from(f.assigned_to.is_some() || f.unassigned);
                if equalities <= 1 {
                    assert!(indexed && !sorted, "{f:?} {cursor:?}:\n{text}");
                } else {
                    // Two filters meet in one index or in an intersection of two: PostgreSQL
                    // may sort a small intersection, never the queue.
                    assert!(!scanned, "{f:?} {cursor:?}:\n{text}");
                }
                checked += 1;
            }
        }
        assert_eq!(checked, 2 * 2 * 3 * 2 * 2 * 3);
    }
);

/// The receipt numbers of a queue page, in the order shown, and its previous/next links.
fn receipts_and_links(html: &str) -> (Vec<String>, Option<String>, Option<String>) {
    let receipts = html
        .match_indices("<code>SR-2026-")
        .map(|(i, _)| html[i + 6..i + 20].to_string())
        .collect();
    let link = |label: &str| {
        let end = html.find(label)?;
        let start = html[..end].rfind("<a href=\"")? + "<a href=\"".len();
        let href = &html[start..];
        Some(
            href[..href.find('"')?]
                .replace("&amp;", "&")
                .replace("&#38;", "&"),
        )
    };
    (receipts, link("前の50件"), link("次の50件"))
}

dual_test!(
    next_and_previous_links_walk_the_filtered_queue_in_order_and_back,
    |app| async move {
        let me = reviewer(&app).await;
        seed(&app, 1300, me).await;
        // Q0001 holds a second user code, which finds it as well.
        secportal::db::on_db!(app.db(), p => sqlx::query(
            "INSERT INTO org_user_codes (code, org_id, created_at) \
             SELECT 'Z0001', id, created_at FROM organisations WHERE user_code = 'Q0001'")
            .execute(p)
            .await
            .map(|_| ()))
        .unwrap();
        let r = app.new_browser();
        r.login("reviewer@center.example.jp", PASSWORD).await;
        for (query, keep) in [
            ("", (|s: &Seeded| s.waiting) as fn(&Seeded) -> bool),
            ("?who=unassigned", |s: &Seeded| s.waiting && !s.assigned),
            ("?kind=antivirus&org=q0001", |s: &Seeded| {
                s.waiting && s.kind == "antivirus" && s.org == 1
            }),
            ("?kind=antivirus&org=z0001", |s: &Seeded| {
                s.waiting && s.kind == "antivirus" && s.org == 1
            }),
            ("?form=router&state=accepted", |s: &Seeded| {
                !s.waiting && s.org % 3 == 1
            }),
            ("?who=mine&kind=system_configuration", |s: &Seeded| {
                s.waiting && s.assigned && s.kind == "system_configuration"
            }),
        ] {
            let expected: Vec<String> = (0..1300)
                .map(seeded)
                .filter(keep)
                .map(|s| format!("SR-2026-{:06}", s.i))
                .collect();
            let mut seen = Vec::new();
            let mut pages = Vec::new();
            let mut path = format!("/review{query}");
            loop {
                let html = r.get(&path).await.text().await.unwrap();
                let (rows, previous, next) = receipts_and_links(&html);
                assert!(rows.len() <= 50, "{query}: a page holds 50");
                assert_eq!(
                    previous.is_some(),
                    !pages.is_empty(),
                    "{query}: only later pages link back {path} {}",
                    &html[html.find("<table").unwrap_or(0)..]
                );
                seen.extend(rows.clone());
                pages.push((rows, previous));
                match next {
                    Some(n) => path = n,
                    None => break,
                }
            }
            assert_eq!(seen, expected, "{query}");
            // Back from the last page, each previous page shows what it showed going forward.
            let mut back = pages.last().and_then(|p| p.1.clone());
            for k in (0..pages.len().saturating_sub(1)).rev() {
                let html = r.get(&back.unwrap()).await.text().await.unwrap();
                let (rows, previous, next) = receipts_and_links(&html);
                assert_eq!(rows, pages[k].0, "{query}: page {k} going back");
                assert!(
                    next.is_some(),
                    "{query}: a page reached going back links forward"
                );
                assert_eq!(previous.is_some(), k > 0, "{query}: page {k} going back");
                back = previous;
            }
        }
    }
);

dual_test!(
    a_renamed_organisation_person_or_place_shows_on_the_next_queue_page,
    |app| async move {
        use secportal::app::{self, Actor};
        let me = reviewer(&app).await;
        seed(&app, 30, me).await;
        // Q0000's submissions are about its office (HQ), Q0001's about a gateway site of its
        // office; the names of people, organisations and places come from the node's book.
        on_db!(app.db(), p => sqlx::query(
            "UPDATE submissions SET location_id = (SELECT l.id FROM locations l WHERE l.org_id = submissions.org_id) \
             WHERE org_id = (SELECT id FROM organisations WHERE user_code = 'Q0000')",
        )
        .execute(p)
        .await
        .map(|_| ())
        .unwrap());
        let site = Uuid::new_v4();
        let (q1, office): (Uuid, Uuid) = on_db!(app.db(), p => sqlx::query_as(
            "SELECT o.id, l.id FROM organisations o JOIN locations l ON l.org_id = o.id WHERE o.user_code = 'Q0001'",
        )
        .fetch_one(p)
        .await
        .unwrap());
        on_db!(app.db(), p => {
            sqlx::query(
                "INSERT INTO locations (id, org_id, kind, name, address, active, version, created_at, updated_at, office_id) \
                 VALUES ($1, $2, 'gateway_site', 'GW-1', '-', TRUE, 1, $3, $3, $4)",
            )
            .bind(site)
            .bind(q1)
            .bind(chrono::Utc::now())
            .bind(office)
            .execute(p)
            .await
            .unwrap();
            sqlx::query("UPDATE submissions SET location_id = $1 WHERE org_id = $2")
                .bind(site)
                .bind(q1)
                .execute(p)
                .await
                .unwrap();
        });
        let u = secportal::db::users::by_email(app.db(), "reviewer@center.example.jp")
            .await
            .unwrap()
            .unwrap();
        let actor = Actor {
            id: u.id,
            email: u.email,
            role: secportal::domain::Role::Reviewer,
            org_id: None,
            ip: "192.0.2.7".into(),
        };
        let all = QueueFilter {
            state: Some("accepted".into()),
            ..QueueFilter::default()
        };
        // Accepted: i % 3 == 0 (i = 0, 3, …); i = 0 is Q0000's and taken by the reviewer,
        // i = 21 is Q0001's.
        let line = |page: &app::review::QueuePage, receipt: &str| {
            page.lines
                .iter()
                .find(|l| l.receipt_no == receipt)
                .cloned()
                .unwrap_or_else(|| panic!("{receipt} on the page"))
        };
        // Q0000's taken line and Q0001's, as the first page shows them.
        let two = async || {
            let page = app::review::queue_page(&app.state, &actor, &all, None, 50)
                .await
                .unwrap();
            (line(&page, "SR-2026-000000"), line(&page, "SR-2026-000021"))
        };
        let (a, b) = two().await;
        assert_eq!(
            (
                a.org_name.as_str(),
                a.org_code.as_str(),
                a.place.as_deref(),
                a.place_office.as_deref()
            ),
            ("Org 0", "Q0000", Some("HQ"), None)
        );
        assert_eq!(a.assignee.as_deref(), Some(u.display_name.as_str()));
        assert_eq!(
            (
                b.org_name.as_str(),
                b.place.as_deref(),
                b.place_office.as_deref(),
                b.assignee.as_deref()
            ),
            ("Org 1", Some("GW-1"), Some("HQ"), None)
        );
        // Renamed outside this node (as another node's request would): the very next page.
        on_db!(app.db(), p => {
            for sql in [
                "UPDATE organisations SET name = '株式会社 新名称', user_code = 'QX000' WHERE user_code = 'Q0000'",
                "UPDATE users SET display_name = '審査 花子' WHERE email = 'reviewer@center.example.jp'",
                "UPDATE locations SET name = '本社' WHERE kind = 'office' AND org_id = (SELECT id FROM organisations WHERE user_code = 'Q0001')",
            ] {
                sqlx::query(sqlx::AssertSqlSafe(sql)).execute(p).await.unwrap();
            }
        });
        let (a, b) = two().await;
        assert_eq!(
            (
                a.org_name.as_str(),
                a.org_code.as_str(),
                a.assignee.as_deref()
            ),
            ("株式会社 新名称", "QX000", Some("審査 花子"))
        );
        assert_eq!(
            (b.place.as_deref(), b.place_office.as_deref()),
            (Some("GW-1"), Some("本社"))
        );
        // An update that leaves the names as they were keeps the book (the version stands).
        let before: i64 = on_db!(app.db(), p => sqlx::query_scalar("SELECT n FROM name_version").fetch_one(p).await.unwrap());
        on_db!(app.db(), p => sqlx::query("UPDATE organisations SET name = name").execute(p).await.map(|_| ()).unwrap());
        let after: i64 = on_db!(app.db(), p => sqlx::query_scalar("SELECT n FROM name_version").fetch_one(p).await.unwrap());
        assert_eq!((before, after), (3, 3));
    }
);
