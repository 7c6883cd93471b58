//! The object store behind the file store: a local folder, or an S3-compatible bucket.

use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;

use object_store::ObjectStore;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;

use crate::config::{Config, FileStoreKind};

/// A local folder (created), written with fsync.
pub(super) fn local(root: &FsPath) -> anyhow::Result<Arc<dyn ObjectStore>> {
    std::fs::create_dir_all(root)?;
    Ok(Arc::new(
        LocalFileSystem::new_with_prefix(root)?.with_fsync(true),
    ))
}

/// The store the configuration names, and its folder when it is local.
pub(super) fn open(config: &Config) -> anyhow::Result<(Arc<dyn ObjectStore>, Option<PathBuf>)> {
    match &config.storage.kind {
        FileStoreKind::Local => {
            let root = config.files_dir();
            Ok((local(&root)?, Some(root)))
        }
        FileStoreKind::S3 {
            bucket,
            prefix,
            endpoint,
            region,
        } => {
            // https to the bucket goes through rustls, with ring as its cryptography (the
            // first store opened installs it; later calls find it there).
            let _ = rustls::crypto::ring::default_provider().install_default();
            // A key without its secret (or the other way round) would only fail at the first
            // upload; say so at start. Neither set: the instance's role, as AWS SDKs do.
            let key = std::env::var("AWS_ACCESS_KEY_ID").unwrap_or_default();
            let secret = std::env::var("AWS_SECRET_ACCESS_KEY").unwrap_or_default();
            if key.is_empty() != secret.is_empty() {
                anyhow::bail!(
                    "the S3 file store needs both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or neither (an instance role)"
                );
            }
            // Credentials (and any other AWS_* setting) from the environment, never logged.
            let mut builder = AmazonS3Builder::from_env()
                .with_bucket_name(bucket)
                .with_region(region);
            if let Some(url) = endpoint {
                builder = builder
                    .with_endpoint(url.as_str().trim_end_matches('/'))
                    .with_allow_http(url.scheme() == "http");
            }
            let s3: Arc<dyn ObjectStore> = Arc::new(builder.build()?);
            let store = match prefix {
                Some(p) => Arc::new(object_store::prefix::PrefixStore::new(s3, p.as_str()))
                    as Arc<dyn ObjectStore>,
                None => s3,
            };
            Ok((store, None))
        }
    }
}
