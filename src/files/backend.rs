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
            // Each part's SHA-256 in its signature costs a pass over every byte here and
            // another at the server, and adds nothing where the bytes cannot be changed on
            // the way: over TLS, or to this machine. Our own SHA-256 names the blob either way.
            builder = builder.with_unsigned_payload(payload_safe_unsigned(endpoint.as_ref()));
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

/// Whether parts may go with `UNSIGNED-PAYLOAD`: to AWS and any https endpoint (TLS keeps the
/// bytes intact), or over http to this machine (no network in between). Plain http to another
/// host keeps each part's hash in its signature.
fn payload_safe_unsigned(endpoint: Option<&url::Url>) -> bool {
    let Some(url) = endpoint else {
        return true;
    };
    if url.scheme() == "https" {
        return true;
    }
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::payload_safe_unsigned;

    #[test]
    fn parts_go_unsigned_only_over_tls_or_to_this_machine() {
        let url = |s: &str| url::Url::parse(s).unwrap();
        assert!(payload_safe_unsigned(None), "AWS: https");
        for yes in [
            "https://s3.example.jp",
            "http://127.0.0.1:9000",
            "http://[::1]:9000",
            "http://localhost:9000",
        ] {
            assert!(payload_safe_unsigned(Some(&url(yes))), "{yes}");
        }
        for no in ["http://minio:9000", "http://10.0.0.5:9000"] {
            assert!(!payload_safe_unsigned(Some(&url(no))), "{no}");
        }
    }
}
