//! The file store on each backend it supports: the local folder, and an S3-compatible bucket
//! when `SECPORTAL_TEST_S3_ENDPOINT` names one (`.ci/run` starts `s3s-fs` and sets it, with
//! `SECPORTAL_TEST_S3_BUCKET` and the `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` it takes).

use std::sync::Arc;

use bytes::Bytes;
use futures_util::StreamExt;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use secportal::Config;
use secportal::config::{FileStoreKind, Storage};
use secportal::files::FileStore;

const PDF: &[u8] =
    b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

/// Where a test's objects go.
#[derive(Debug, Clone)]
pub(crate) enum Place {
    Local,
    /// A bucket of the test server, under a prefix of this test's own.
    S3 {
        endpoint: url::Url,
        bucket: String,
        prefix: String,
    },
}

/// The local folder always; the test S3 server when one is configured.
pub(crate) fn places() -> Vec<Place> {
    let mut v = vec![Place::Local];
    if let Ok(e) = std::env::var("SECPORTAL_TEST_S3_ENDPOINT")
        && !e.is_empty()
    {
        v.push(Place::S3 {
            endpoint: url::Url::parse(&e).expect("SECPORTAL_TEST_S3_ENDPOINT is a URL"),
            bucket: std::env::var("SECPORTAL_TEST_S3_BUCKET")
                .unwrap_or_else(|_| "secportal-test".into()),
            prefix: format!("t-{}", uuid::Uuid::now_v7().simple()),
        });
    }
    v
}

/// Points a configuration at `place` for node `node` (a local place is the data folder's).
pub(crate) fn use_place(config: &mut Config, place: &Place, node: &str) {
    config.storage = Storage {
        kind: match place {
            Place::Local => FileStoreKind::Local,
            Place::S3 {
                endpoint,
                bucket,
                prefix,
            } => FileStoreKind::S3 {
                bucket: bucket.clone(),
                prefix: Some(prefix.clone()),
                endpoint: Some(endpoint.clone()),
                region: "us-east-1".into(),
            },
        },
        node_id: node.into(),
    };
}

/// The raw objects of a place, as an outside tool would see them.
fn raw(config: &Config, place: &Place) -> Arc<dyn ObjectStore> {
    match place {
        Place::Local => Arc::new(
            object_store::local::LocalFileSystem::new_with_prefix(config.files_dir()).unwrap(),
        ),
        Place::S3 {
            endpoint,
            bucket,
            prefix,
        } => {
            // The portal installs rustls' provider when it opens an S3 store; a test that
            // reaches the bucket before any portal did (run alone) installs it here.
            let _ = rustls::crypto::ring::default_provider().install_default();
            let s3 = object_store::aws::AmazonS3Builder::from_env()
                .with_bucket_name(bucket)
                .with_region("us-east-1")
                .with_endpoint(endpoint.as_str().trim_end_matches('/'))
                .with_allow_http(true)
                .build()
                .unwrap();
            Arc::new(object_store::prefix::PrefixStore::new(s3, prefix.as_str()))
        }
    }
}

async fn names(store: &Arc<dyn ObjectStore>, under: &str) -> Vec<String> {
    let mut out: Vec<String> = store
        .list(Some(&Path::from(under)))
        .map(|m| m.unwrap().location.to_string())
        .collect()
        .await;
    out.sort();
    out
}

fn chunks(
    parts: Vec<&'static [u8]>,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> + Unpin {
    futures_util::stream::iter(parts.into_iter().map(|p| Ok(Bytes::from_static(p))))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_store_keeps_files_and_a_node_sweeps_only_its_own_staged_uploads() {
    for place in places() {
        let tmp = tempfile::tempdir().unwrap();
        let mut a = Config::for_data_dir(tmp.path().join("data"), None).unwrap();
        use_place(&mut a, &place, "node-a");
        let mut b = a.clone();
        use_place(&mut b, &place, "node-b");
        let node_a = FileStore::from_config(&a).unwrap();
        let node_b = FileStore::from_config(&b).unwrap();
        let objects = raw(&a, &place);

        // Stored through one node, read through the other.
        let stored = node_a
            .receive("構成図.pdf", chunks(vec![&PDF[..10], &PDF[10..]]))
            .await
            .unwrap();
        let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(PDF));
        assert_eq!(stored.sha256, sha, "{place:?}");
        assert!(node_b.has(&sha, PDF.len() as u64).await, "{place:?}");
        let back: Vec<u8> = node_b
            .read(&sha)
            .await
            .unwrap()
            .map(|c| c.unwrap().to_vec())
            .concat()
            .await;
        assert_eq!(back, PDF, "{place:?}");
        // The same bytes again, through the other node: one object, still readable.
        let again = node_b.receive("copy.pdf", chunks(vec![PDF])).await.unwrap();
        assert_eq!(again.sha256, sha);
        assert_eq!(
            names(&objects, "blobs").await,
            vec![format!("blobs/{}/{sha}", &sha[..2])],
            "{place:?}"
        );
        assert!(names(&objects, "staging").await.is_empty(), "{place:?}");

        // Each node's leftovers of an earlier run, and an upload node A has in progress.
        for leftover in ["staging/node-a/dead-1", "staging/node-b/dead-2"] {
            objects
                .put(&Path::from(leftover), PutPayload::from_static(b"partial"))
                .await
                .unwrap();
        }
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(1);
        let slow = {
            let node_a = node_a.clone();
            tokio::spawn(async move {
                node_a
                    .receive("大きな図面.pdf", tokio_stream_from(rx))
                    .await
            })
        };
        // More than the head the type is read from: the upload is streaming into staging.
        let mut head = b"%PDF-1.7\n% a large drawing\n".to_vec();
        head.resize(16 * 1024, b'x');
        tx.send(Ok(Bytes::from(head))).await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        // Node B starts again: it clears its own staging folder, nothing of node A's.
        assert_eq!(node_b.sweep_staging().await.unwrap(), 1, "{place:?}");
        assert_eq!(
            names(&objects, "staging").await,
            vec!["staging/node-a/dead-1".to_string()],
            "{place:?}"
        );
        // Several parts in either store (S3 takes parts of 5 MiB, the disk 1 MiB).
        for _ in 0..11 {
            tx.send(Ok(Bytes::from(vec![b'x'; 1024 * 1024])))
                .await
                .unwrap();
        }
        tx.send(Ok(Bytes::from_static(b"\n%%EOF\n"))).await.unwrap();
        drop(tx);
        let big = slow
            .await
            .unwrap()
            .expect("node A's upload survives node B's restart");
        assert!(node_a.has(&big.sha256, big.size).await, "{place:?}");

        // A node that is gone: its leftovers go with the hourly sweep once a day old, like
        // blobs no row names.
        drop((stored, again, big));
        let later = chrono::Utc::now() + chrono::Duration::days(2);
        let (temps, orphans) = node_b
            .sweep(later, chrono::Duration::days(1), |_| async { Ok(false) })
            .await
            .unwrap();
        assert_eq!(temps, 1, "{place:?}");
        assert_eq!(orphans, 2, "{place:?}");
        assert!(names(&objects, "").await.is_empty(), "{place:?}");
    }
}

/// Rows in `blob_holds` (holds and deletion marks not yet given back).
async fn holds_left(db: &secportal::db::Db) -> i64 {
    secportal::db::on_db!(db, p => sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM blob_holds").fetch_one(p).await).unwrap()
}

/// Waits (up to 5 s) until every hold is given back (that happens in the background).
async fn holds_released(db: &secportal::db::Db) {
    for _ in 0..250 {
        if holds_left(db).await == 0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("holds were not given back");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_purge_on_one_node_leaves_a_blob_another_node_has_stored_but_not_yet_recorded() {
    for backend in crate::helpers::backends() {
        for place in places() {
            let tmp = tempfile::tempdir().unwrap();
            let (url, _pg) = match &backend {
                crate::helpers::Backend::Sqlite => (
                    format!("sqlite://{}", tmp.path().join("s.db").display()),
                    None,
                ),
                crate::helpers::Backend::Postgres { admin_url } => {
                    let (url, guard) = crate::helpers::fresh_pg(admin_url).await;
                    (url, Some(guard))
                }
            };
            let db = secportal::db::Db::connect(&url).await.unwrap();
            secportal::db::migrate::run(&db).await.unwrap();
            let mut a = Config::for_data_dir(tmp.path().join("data"), None).unwrap();
            use_place(&mut a, &place, "node-a");
            let mut b = a.clone();
            use_place(&mut b, &place, "node-b");
            let holds = secportal::app::blob_holds::shared(&db);
            let node_a = FileStore::from_config(&a)
                .unwrap()
                .with_holds(holds.clone());
            let node_b = FileStore::from_config(&b).unwrap().with_holds(holds);
            let size = PDF.len() as u64;
            let label = format!("{backend:?} {place:?}");

            // Stored through node A and never recorded (the upload was given up).
            let first = node_a.receive("a.pdf", chunks(vec![PDF])).await.unwrap();
            let sha = first.sha256.clone();
            drop(first);
            holds_released(&db).await;
            // The same bytes through node B, not yet recorded: a purge, and the hourly sweep
            // with the age guard out of play, on node A (whose memory knows nothing of node
            // B's upload) leave the blob.
            let again = node_b.receive("b.pdf", chunks(vec![PDF])).await.unwrap();
            let nobody = |_: String| async { Ok(false) };
            assert!(
                !node_a.remove_unreferenced(&sha, nobody).await.unwrap(),
                "{label}"
            );
            let later = chrono::Utc::now() + chrono::Duration::days(2);
            let (_, orphans) = node_a
                .sweep(later, chrono::Duration::days(1), nobody)
                .await
                .unwrap();
            assert_eq!(orphans, 0, "{label}");
            assert!(node_b.has(&sha, size).await, "{label}");
            // Once node B's upload is done with it, node A's purge takes it.
            drop(again);
            holds_released(&db).await;
            assert!(
                node_a.remove_unreferenced(&sha, nobody).await.unwrap(),
                "{label}"
            );
            assert!(!node_b.has(&sha, size).await, "{label}");

            // While node A is deleting it, node B's upload of the same bytes waits, then
            // stores them again.
            let now = secportal::db::now();
            assert!(
                secportal::db::blob_holds::mark_deleting(
                    &db,
                    &sha,
                    now,
                    now + chrono::Duration::minutes(10)
                )
                .await
                .unwrap()
            );
            let waiting = {
                let node_b = node_b.clone();
                tokio::spawn(async move { node_b.receive("c.pdf", chunks(vec![PDF])).await })
            };
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            assert!(!waiting.is_finished(), "{label}: the upload waits");
            secportal::db::blob_holds::unmark(&db, &sha).await.unwrap();
            let stored = waiting.await.unwrap().unwrap();
            assert!(node_a.has(&sha, size).await, "{label}");
            // A deletion cannot start while the upload holds it.
            assert!(
                !secportal::db::blob_holds::mark_deleting(
                    &db,
                    &sha,
                    now,
                    now + chrono::Duration::minutes(10)
                )
                .await
                .unwrap(),
                "{label}"
            );
            drop(stored);
            holds_released(&db).await;
            db.close().await;
            clear(&place).await;
        }
    }
}

/// A stream of what arrives on `rx`.
fn tokio_stream_from(
    rx: tokio::sync::mpsc::Receiver<Result<Bytes, std::io::Error>>,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> + Unpin {
    Box::pin(futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    }))
}

/// Removes every object a test left in its part of the test bucket (a local place goes with
/// its temporary folder).
pub(crate) async fn clear(place: &Place) {
    if let Place::S3 { .. } = place {
        let config = Config::for_data_dir("/nonexistent".into(), None).unwrap();
        let store = raw(&config, place);
        for name in names(&store, "").await {
            let _ = store.delete(&Path::from(name)).await;
        }
    }
}
