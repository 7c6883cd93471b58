//! The database as the place every node sees holds on blobs (see `files::SharedHolds`).

use std::sync::Arc;

use chrono::Duration;
use futures_util::FutureExt;
use futures_util::future::BoxFuture;

use crate::db::{self, Db};
use crate::files::SharedHolds;

/// How long an upload's hold lasts if its process dies before giving it back (it records its
/// file within a few request timeouts).
const HOLD_FOR: Duration = Duration::hours(1);
/// How long a deletion's mark lasts if its process dies mid-way.
const MARK_FOR: Duration = Duration::minutes(10);

/// Holds kept in the database.
struct DbHolds(Db);

/// The holds of this database, for the file store.
pub fn shared(db: &Db) -> Arc<dyn SharedHolds> {
    Arc::new(DbHolds(db.clone()))
}

impl SharedHolds for DbHolds {
    fn hold<'a>(&'a self, sha256: &'a str) -> BoxFuture<'a, anyhow::Result<bool>> {
        async move {
            let now = db::now();
            Ok(db::blob_holds::hold(&self.0, sha256, now, now + HOLD_FOR).await?)
        }
        .boxed()
    }

    fn release(&self, sha256: String) -> BoxFuture<'static, ()> {
        let db = self.0.clone();
        async move {
            if let Err(e) = db::blob_holds::release(&db, &sha256).await {
                tracing::warn!(error = %e, "a blob's hold could not be given back; it runs out by itself");
            }
        }
        .boxed()
    }

    fn mark_deleting<'a>(&'a self, sha256: &'a str) -> BoxFuture<'a, anyhow::Result<bool>> {
        async move {
            let now = db::now();
            Ok(db::blob_holds::mark_deleting(&self.0, sha256, now, now + MARK_FOR).await?)
        }
        .boxed()
    }

    fn unmark<'a>(&'a self, sha256: &'a str) -> BoxFuture<'a, ()> {
        async move {
            if let Err(e) = db::blob_holds::unmark(&self.0, sha256).await {
                tracing::warn!(error = %e, "a blob's deletion mark could not be removed; it runs out by itself");
            }
        }
        .boxed()
    }
}
