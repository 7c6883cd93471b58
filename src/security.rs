//! Password hashing (argon2id, off the async runtime), random tokens, and the audit key.

use std::sync::OnceLock;

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

fn argon2() -> anyhow::Result<Argon2<'static>> {
    let params =
        Params::new(19_456, 2, 1, None).map_err(|e| anyhow::anyhow!("argon2 params: {e}"))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes a password with argon2id (m=19456 KiB, t=2, p=1) on the blocking pool.
pub async fn hash_password(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || {
        let hash = argon2()?
            .hash_password(password.as_bytes())
            .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))?;
        Ok(hash.to_string())
    })
    .await?
}

/// A hash of a random password, verified against when the account does not exist so that
/// unknown users and wrong passwords take the same time.
fn dummy_hash() -> &'static str {
    static H: OnceLock<String> = OnceLock::new();
    H.get_or_init(|| {
        argon2()
            .ok()
            .and_then(|a| a.hash_password(random_token().as_bytes()).ok())
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}

/// Verifies a password on the blocking pool; `None` verifies against a dummy hash and fails.
pub async fn verify_password(stored: Option<String>, password: String) -> anyhow::Result<bool> {
    tokio::task::spawn_blocking(move || {
        let real = stored.is_some();
        let hash = stored.unwrap_or_else(|| dummy_hash().to_string());
        let Ok(parsed) = PasswordHash::new(&hash) else {
            return Ok(false);
        };
        let ok = argon2()?
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        Ok(real && ok)
    })
    .await?
}

/// Warms the dummy hash so the first unknown-user sign-in is not faster or slower than others.
pub async fn warm_up() {
    let _ = tokio::task::spawn_blocking(|| dummy_hash().len()).await;
}

/// 256 random bits, URL-safe base64.
pub fn random_token() -> String {
    let mut buf = [0u8; 32];
    // getrandom only fails when the OS has no entropy source at all; then nothing is safe.
    if getrandom::fill(&mut buf).is_err() {
        std::process::abort();
    }
    URL_SAFE_NO_PAD.encode(buf)
}

/// SHA-256 of a token, as stored.
pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Compares two strings in time independent of where they differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Whether a missing audit key file may be made: the server and `user add` make it on first
/// start; `audit verify` only reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyFile {
    CreateIfMissing,
    MustExist,
}

/// Loads the key that signs the audit chain from the environment or its key file; a missing
/// file is created (256 random bits, hex, mode 0600) when `create` allows.
pub async fn audit_key(
    config: &crate::Config,
    create: KeyFile,
) -> anyhow::Result<crate::db::audit::AuditKey> {
    use crate::config::AuditKeySource;
    use crate::db::audit::AuditKey;
    let path = match &config.audit_key {
        AuditKeySource::Value(bytes) => return Ok(AuditKey::new(bytes)),
        AuditKeySource::File(p) => p,
    };
    match tokio::fs::read_to_string(path).await {
        Ok(text) => {
            warn_if_readable_by_others(path).await;
            let bytes = crate::config::decode_audit_key(&text).ok_or_else(|| {
                anyhow::anyhow!(
                    "audit key file {}: expected hex or base64 of at least {} bytes",
                    path.display(),
                    crate::config::AUDIT_KEY_MIN_BYTES
                )
            })?;
            Ok(AuditKey::new(&bytes))
        }
        Err(e)
            if e.kind() == std::io::ErrorKind::NotFound && create == KeyFile::CreateIfMissing =>
        {
            let mut buf = [0u8; 32];
            if getrandom::fill(&mut buf).is_err() {
                std::process::abort();
            }
            if let Some(parent) = path.parent()
                && !parent.as_os_str().is_empty()
            {
                tokio::fs::create_dir_all(parent).await?;
            }
            let mut opts = tokio::fs::OpenOptions::new();
            opts.write(true).create_new(true);
            #[cfg(unix)]
            opts.mode(0o600);
            let mut f = opts.open(path).await.map_err(|e| {
                anyhow::anyhow!("audit key file {}: cannot create: {e}", path.display())
            })?;
            tokio::io::AsyncWriteExt::write_all(
                &mut f,
                format!("{}\n", hex::encode(buf)).as_bytes(),
            )
            .await?;
            f.sync_all().await?;
            tracing::warn!(
                path = %path.display(),
                "audit key created: keep a copy outside the database backups; without it the audit trail cannot be verified"
            );
            Ok(AuditKey::new(&buf))
        }
        Err(e) => Err(anyhow::anyhow!(
            "audit key file {}: {e} (set SECPORTAL_AUDIT_KEY or SECPORTAL_AUDIT_KEY_FILE)",
            path.display()
        )),
    }
}

async fn warn_if_readable_by_others(path: &std::path::Path) {
    #[cfg(unix)]
    if let Ok(meta) = tokio::fs::metadata(path).await {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o077 != 0 {
            tracing::warn!(path = %path.display(), "audit key file is readable by others than its owner: chmod 600 it");
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}
