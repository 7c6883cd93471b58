//! Two nodes on one PostgreSQL database and one file store (the bucket of the test S3 server
//! when `.ci/run` starts one, else a shared folder): what one node does, the other sees at once.

use std::time::{Duration, Instant};

use reqwest::StatusCode;

use crate::file_stores::{places, use_place};
use crate::files::{first_file_id, setup, upload};
use crate::helpers::{Backend, PASSWORD, TestApp, backends, location};

const PDF: &[u8] =
    b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_share_files_and_see_sign_outs_and_decisions_at_once() {
    let Some(pg) = backends()
        .into_iter()
        .find(|b| matches!(b, Backend::Postgres { .. }))
    else {
        eprintln!("two nodes need PostgreSQL: SECPORTAL_TEST_POSTGRES_URL is not set");
        return;
    };
    let place = places().pop().unwrap();
    let one = TestApp::spawn_configured(pg, |c| use_place(c, &place, "node-1")).await;
    let two = one.spawn_beside(|c| use_place(c, &place, "node-2")).await;
    let body = async {
        // An organisation uploads through node 1 …
        let org = setup(&one).await;
        let res = upload(&one, &org, "diagram", vec![("構成図.pdf", PDF.to_vec())]).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let file_id = first_file_id(&one, &org).await;
        // … and downloads and previews it through node 2.
        let same_user = two.browser_of(&one.browser());
        let res = same_user.get(&format!("/files/{file_id}")).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.bytes().await.unwrap().as_ref(), PDF);
        let res = same_user.get(&format!("/files/{file_id}/preview")).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.bytes().await.unwrap().as_ref(), PDF);
        let csv = "機器種別,メーカー,型番,台数\nサーバ,富士通,PRIMERGY,2\n";
        let res = upload(
            &one,
            &org,
            "equipment_list",
            vec![("機器一覧.csv", csv.as_bytes().to_vec())],
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let res = one
            .post(
                &format!("/orgs/{org}/system-configuration"),
                &[("note", "二拠点"), ("action", "submit")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "submitted");
        let receipt = location(&res);

        // A reviewer's queue on node 1, kept by node 1 for a moment; the decision is made on
        // node 2; node 1 shows it on the very next request.
        one.add_user("reviewer@center.example.jp", "reviewer", None)
            .await;
        let r1 = one.new_browser();
        r1.login("reviewer@center.example.jp", PASSWORD).await;
        let queue = r1
            .get("/review?state=submitted")
            .await
            .text()
            .await
            .unwrap();
        let id = queue
            .split("href=\"/review/")
            .find_map(|s| {
                let id = s.split('"').next()?;
                uuid::Uuid::parse_str(id).ok().map(|_| id.to_string())
            })
            .expect("the submission is in the queue");
        let r2 = two.browser_of(&r1);
        let res = r2
            .post(&format!("/review/{id}/decide"), &[("decision", "accepted")])
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "decided on node 2");
        // Node 1 hears of it through PostgreSQL's NOTIFY; its listener task may need a moment
        // to be scheduled. Without the announcement node 1 would serve the page it keeps for a
        // second from the read above; the look here ends well within that second.
        let seen = within(Duration::from_millis(300), || async {
            let queue = r1
                .get("/review?state=submitted")
                .await
                .text()
                .await
                .unwrap();
            !queue.contains(&format!("href=\"/review/{id}\""))
        })
        .await;
        assert!(
            seen,
            "node 1's waiting queue no longer lists the accepted submission"
        );
        let mine = one.get(&receipt).await.text().await.unwrap();
        assert!(
            mine.contains("受理"),
            "the organisation's receipt shows the decision"
        );

        // Signed in on both (one session); signing out on node 2 ends it on node 1 at once.
        assert_eq!(
            one.get("/home").await.status(),
            StatusCode::OK,
            "node 1 has read the session"
        );
        let res = same_user.post("/logout", &[]).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let refused = within(Duration::from_millis(300), || async {
            let res = one.get("/home").await;
            res.status() == StatusCode::SEE_OTHER && location(&res).starts_with("/login")
        })
        .await;
        assert!(refused, "node 1 refuses the ended session at once");
    };
    tokio::time::timeout(std::time::Duration::from_secs(120), body)
        .await
        .expect("two-node journey timed out");
}

/// Whether `check` holds, asked again every 20 ms until `limit` has passed.
async fn within<F, Fut>(limit: Duration, check: F) -> bool
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    loop {
        if check().await {
            return true;
        }
        if start.elapsed() > limit {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
