//! Where uploaded files are kept: the local data folder (default) or an S3-compatible bucket
//! shared by several nodes, and the name of this node (its staged uploads live under it).

use clap::Args;

use super::{ConfigError, bad};

/// Raw storage settings.
#[derive(Debug, Clone, Args, Default)]
pub struct StorageArgs {
    /// Where uploaded files are kept: `local` (under the data folder) or `s3://bucket[/prefix]`
    /// (credentials from `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`).
    #[arg(
        long,
        env = "SECPORTAL_FILE_STORE",
        default_value = "local",
        global = true
    )]
    pub file_store: String,
    /// The S3 endpoint for a store other than AWS (`http://127.0.0.1:9000`, `https://s3.example.jp`).
    #[arg(long, env = "SECPORTAL_S3_ENDPOINT", global = true)]
    pub s3_endpoint: Option<String>,
    /// The bucket's region.
    #[arg(
        long,
        env = "SECPORTAL_S3_REGION",
        default_value = "us-east-1",
        global = true
    )]
    pub s3_region: String,
    /// This node's name, unique among the nodes sharing a store (default: host name and port).
    #[arg(long, env = "SECPORTAL_NODE_ID", global = true)]
    pub node_id: Option<String>,
}

/// Where files live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileStoreKind {
    /// `<data dir>/files`.
    Local,
    /// An S3-compatible bucket; objects under `prefix/` when one is given.
    S3 {
        bucket: String,
        prefix: Option<String>,
        endpoint: Option<url::Url>,
        region: String,
    },
}

/// Validated storage settings.
#[derive(Debug, Clone)]
pub struct Storage {
    pub kind: FileStoreKind,
    /// This node's name: letters, digits, `.`, `_` and `-`, at most 64.
    pub node_id: String,
}

fn is_node_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

impl StorageArgs {
    /// Checks the settings; `port` names the node when no name is set.
    pub fn validate(&self, port: u16) -> Result<Storage, ConfigError> {
        let raw = self.file_store.trim();
        let kind = if raw.is_empty() || raw == "local" {
            FileStoreKind::Local
        } else if let Some(rest) = raw.strip_prefix("s3://") {
            let (bucket, prefix) = match rest.split_once('/') {
                Some((b, p)) => (b, Some(p.trim_matches('/').to_string())),
                None => (rest, None),
            };
            let bucket_ok = (3..=63).contains(&bucket.len())
                && bucket.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.'
                });
            if !bucket_ok {
                return Err(bad(
                    "SECPORTAL_FILE_STORE",
                    format!(
                        "{bucket:?} is not an S3 bucket name (3–63 lower-case letters, digits, '-', '.')"
                    ),
                ));
            }
            let prefix = prefix.filter(|p| !p.is_empty());
            if let Some(p) = &prefix
                && p.split('/')
                    .any(|seg| seg.is_empty() || seg == "." || seg == "..")
            {
                return Err(bad(
                    "SECPORTAL_FILE_STORE",
                    format!("the prefix {p:?} has an empty, '.' or '..' part"),
                ));
            }
            let endpoint = match self.s3_endpoint.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(e) => {
                    let url = url::Url::parse(e)
                        .map_err(|err| bad("SECPORTAL_S3_ENDPOINT", format!("not a URL: {err}")))?;
                    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
                        return Err(bad(
                            "SECPORTAL_S3_ENDPOINT",
                            "expected http://host[:port] or https://host[:port]",
                        ));
                    }
                    Some(url)
                }
            };
            let region = match self.s3_region.trim() {
                "" => "us-east-1".to_string(),
                r => r.to_string(),
            };
            FileStoreKind::S3 {
                bucket: bucket.to_string(),
                prefix,
                endpoint,
                region,
            }
        } else {
            return Err(bad(
                "SECPORTAL_FILE_STORE",
                format!("expected `local` or `s3://bucket[/prefix]`, got {raw:?}"),
            ));
        };
        let node_id = match self.node_id.as_deref().map(str::trim) {
            None | Some("") => default_node_name(port),
            Some(n) if is_node_name(n) => n.to_string(),
            Some(n) => {
                return Err(bad(
                    "SECPORTAL_NODE_ID",
                    format!("{n:?}: use 1–64 letters, digits, '.', '_' or '-'"),
                ));
            }
        };
        Ok(Storage { kind, node_id })
    }
}

/// The host's name and the listen port: two processes on one host differ by their port.
fn default_node_name(port: u16) -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .unwrap_or_default();
    let host: String = host
        .trim()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        .take(50)
        .collect();
    let host = if host.is_empty() {
        "node".to_string()
    } else {
        host
    };
    format!("{host}-{port}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(store: &str, endpoint: Option<&str>, node: Option<&str>) -> StorageArgs {
        StorageArgs {
            file_store: store.into(),
            s3_endpoint: endpoint.map(Into::into),
            s3_region: "".into(),
            node_id: node.map(Into::into),
        }
    }

    #[test]
    fn store_settings_are_checked() {
        let local = args("local", None, None).validate(8080).unwrap();
        assert_eq!(local.kind, FileStoreKind::Local);
        assert!(local.node_id.ends_with("-8080"), "{}", local.node_id);
        let s3 = args(
            "s3://secportal-files/prod/",
            Some("http://127.0.0.1:9000"),
            Some("web-1"),
        )
        .validate(8080)
        .unwrap();
        assert_eq!(s3.node_id, "web-1");
        match s3.kind {
            FileStoreKind::S3 {
                bucket,
                prefix,
                endpoint,
                region,
            } => {
                assert_eq!(bucket, "secportal-files");
                assert_eq!(prefix.as_deref(), Some("prod"));
                assert_eq!(endpoint.unwrap().as_str(), "http://127.0.0.1:9000/");
                assert_eq!(region, "us-east-1");
            }
            other => panic!("{other:?}"),
        }
        for (store, endpoint, node, setting) in [
            ("ftp://x", None, None, "SECPORTAL_FILE_STORE"),
            ("s3://A_B", None, None, "SECPORTAL_FILE_STORE"),
            ("s3://bucket/a/../b", None, None, "SECPORTAL_FILE_STORE"),
            (
                "s3://bucket",
                Some("not a url"),
                None,
                "SECPORTAL_S3_ENDPOINT",
            ),
            (
                "s3://bucket",
                Some("file:///tmp"),
                None,
                "SECPORTAL_S3_ENDPOINT",
            ),
            ("local", None, Some("a/b"), "SECPORTAL_NODE_ID"),
        ] {
            let err = args(store, endpoint, node).validate(1).unwrap_err();
            assert_eq!(err.setting, setting, "{store} {endpoint:?} {node:?}");
        }
    }
}
