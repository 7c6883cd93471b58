//! Typed configuration from flags and `SECPORTAL_*` environment variables, validated at start.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use url::Url;

mod schedule;
mod storage;
pub use schedule::{Schedule, ScheduleArgs};
pub use storage::{FileStoreKind, Storage, StorageArgs};

/// Raw settings as given on the command line or in the environment.
#[derive(Debug, Clone, Args)]
pub struct ConfigArgs {
    /// Address to listen on.
    #[arg(
        long,
        env = "SECPORTAL_ADDR",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub addr: String,
    /// Folder for the SQLite database, files and mail.
    #[arg(
        long,
        env = "SECPORTAL_DATA_DIR",
        default_value = "./data",
        global = true
    )]
    pub data_dir: PathBuf,
    /// Database URL: `sqlite://…` or `postgres://…`; default SQLite in the data folder.
    #[arg(long, env = "DATABASE_URL", global = true)]
    pub database_url: Option<String>,
    /// Public base URL used in links and to decide on secure cookies.
    #[arg(long, env = "SECPORTAL_BASE_URL", global = true)]
    pub base_url: Option<String>,
    /// SMTP server URL (`smtp://user:pass@host:587`, `smtps://…`); without it mail is written to files.
    #[arg(
        long,
        env = "SECPORTAL_SMTP_URL",
        global = true,
        hide_env_values = true
    )]
    pub smtp_url: Option<String>,
    /// Sender address for mail.
    #[arg(
        long,
        env = "SECPORTAL_MAIL_FROM",
        default_value = "secportal <no-reply@secportal.invalid>",
        global = true
    )]
    pub mail_from: String,
    /// Minutes of inactivity after which a session ends.
    #[arg(
        long,
        env = "SECPORTAL_SESSION_IDLE_MINUTES",
        default_value = "30",
        global = true
    )]
    pub session_idle_minutes: String,
    /// Hours after sign-in after which a session ends regardless of activity.
    #[arg(
        long,
        env = "SECPORTAL_SESSION_ABSOLUTE_HOURS",
        default_value = "12",
        global = true
    )]
    pub session_absolute_hours: String,
    /// Largest uploaded file, in megabytes.
    #[arg(
        long,
        env = "SECPORTAL_MAX_FILE_MB",
        default_value = "50",
        global = true
    )]
    pub max_file_mb: String,
    /// Largest gateway send/receive log (item 6), in megabytes, before compression.
    #[arg(
        long,
        env = "SECPORTAL_MAX_LOG_MB",
        default_value = "4096",
        global = true
    )]
    pub max_log_mb: String,
    /// Searches of submitted gateway logs (item 6) running at once on this node, page and
    /// CSV together; one more is answered 503 with Retry-After.
    #[arg(
        long,
        env = "SECPORTAL_LOG_SEARCHES",
        default_value = "2",
        global = true
    )]
    pub log_searches: String,
    /// Most files one submission may hold.
    #[arg(long, env = "SECPORTAL_MAX_FILES", default_value = "20", global = true)]
    pub max_files: String,
    /// Antivirus definitions older than this many days are flagged.
    #[arg(
        long,
        env = "SECPORTAL_AV_STALE_DAYS",
        default_value = "7",
        global = true
    )]
    pub av_stale_days: String,
    /// Proxies you run in front of the portal (`false`/0: none, `true`/1: one, or a number):
    /// the client IP is the `X-Forwarded-For` entry that many places from the right.
    #[arg(
        long,
        env = "SECPORTAL_TRUST_PROXY",
        default_value = "false",
        global = true
    )]
    pub trust_proxy: String,
    /// Seconds a request may take before it is answered 503 (uploads: each database step).
    #[arg(
        long,
        env = "SECPORTAL_REQUEST_TIMEOUT_SECS",
        default_value = "15",
        global = true
    )]
    pub request_timeout_secs: String,
    /// ClamAV's clamd for scanning uploads: `unix:/path/clamd.ctl` or `tcp:host:3310` (none: no scan).
    #[arg(long, env = "SECPORTAL_CLAMD", global = true)]
    pub clamd: Option<String>,
    /// Seconds a client may take to send a request's headers.
    #[arg(
        long,
        env = "SECPORTAL_HEADER_TIMEOUT_SECS",
        default_value = "10",
        global = true
    )]
    pub header_timeout_secs: String,
    /// Seconds a connection may stay without traffic (a stalled body, an idle keep-alive).
    #[arg(
        long,
        env = "SECPORTAL_IDLE_TIMEOUT_SECS",
        default_value = "60",
        global = true
    )]
    pub idle_timeout_secs: String,
    /// The key that signs the audit chain, hex or base64 of at least 32 bytes (instead of the key file).
    #[arg(
        long,
        env = "SECPORTAL_AUDIT_KEY",
        global = true,
        hide_env_values = true
    )]
    pub audit_key: Option<String>,
    /// File holding the audit key (default: audit.key in the data folder, created mode 0600 on first start).
    #[arg(long, env = "SECPORTAL_AUDIT_KEY_FILE", global = true)]
    pub audit_key_file: Option<PathBuf>,
    /// Bearer token that opens `/metrics` (Prometheus text); unset, `/metrics` answers 404.
    #[arg(
        long,
        env = "SECPORTAL_METRICS_TOKEN",
        global = true,
        hide_env_values = true
    )]
    pub metrics_token: Option<String>,
    /// Requests per minute one API token may make (429 with Retry-After beyond).
    #[arg(
        long,
        env = "SECPORTAL_API_RATE_PER_MINUTE",
        default_value = "600",
        global = true
    )]
    pub api_rate_per_minute: String,
    /// The hour (Japan time, 0–23) from which the day's retention purge runs.
    #[arg(long, env = "SECPORTAL_PURGE_HOUR", default_value = "2", global = true)]
    pub purge_hour: String,
    #[command(flatten)]
    pub storage: StorageArgs,
    #[command(flatten)]
    pub schedule: ScheduleArgs,
}

/// Where the key that signs the audit chain comes from; never the database.
#[derive(Clone)]
pub enum AuditKeySource {
    /// Given in `SECPORTAL_AUDIT_KEY` (decoded).
    Value(Vec<u8>),
    /// Read from this file (created on first start when missing).
    File(PathBuf),
}

impl std::fmt::Debug for AuditKeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AuditKeySource::Value(_) => f.write_str("Value(..)"),
            AuditKeySource::File(p) => f.debug_tuple("File").field(p).finish(),
        }
    }
}

/// The shortest audit key accepted, in bytes.
pub const AUDIT_KEY_MIN_BYTES: usize = 32;

/// The shortest token `/metrics` accepts: guessing it must be out of reach.
pub const METRICS_TOKEN_MIN_CHARS: usize = 16;

/// Decodes an audit key written as hex or base64 (standard or URL-safe, padded or not).
pub fn decode_audit_key(raw: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    let raw = raw.trim();
    let long_enough = |b: Vec<u8>| (b.len() >= AUDIT_KEY_MIN_BYTES).then_some(b);
    if raw.len().is_multiple_of(2)
        && raw.bytes().all(|b| b.is_ascii_hexdigit())
        && let Some(bytes) = hex::decode(raw).ok().and_then(long_enough)
    {
        return Some(bytes);
    }
    [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|e| e.decode(raw).ok())
        .and_then(long_enough)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_audit_key_is_read_as_hex_or_base64_of_at_least_32_bytes() {
        let hex32 = "0f".repeat(32);
        assert_eq!(
            decode_audit_key(&format!(" {hex32}\n")),
            Some(vec![0x0f; 32])
        );
        // 33 bytes in base64 that happen to be hex digits only: as hex, 22 bytes (too short).
        let b64 = "0123456789abcdef0123456789abcdef0123456789ab";
        assert_eq!(decode_audit_key(b64).map(|k| k.len()), Some(33));
        assert_eq!(
            decode_audit_key("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=").map(|k| k.len()),
            Some(32)
        );
        assert_eq!(decode_audit_key(&"0f".repeat(31)), None, "too short");
        assert_eq!(decode_audit_key("not a key"), None);
        let args = |k: &str| {
            ConfigArgs {
                addr: "127.0.0.1:0".into(),
                data_dir: "/tmp/x".into(),
                database_url: None,
                base_url: None,
                smtp_url: None,
                mail_from: "a <a@example.jp>".into(),
                session_idle_minutes: "30".into(),
                session_absolute_hours: "12".into(),
                trust_proxy: "false".into(),
                max_file_mb: "50".into(),
                max_log_mb: "4096".into(),
                log_searches: "2".into(),
                max_files: "20".into(),
                av_stale_days: "7".into(),
                request_timeout_secs: "15".into(),
                clamd: None,
                header_timeout_secs: "10".into(),
                idle_timeout_secs: "60".into(),
                audit_key: Some(k.into()),
                audit_key_file: None,
                metrics_token: None,
                api_rate_per_minute: "600".into(),
                purge_hour: "2".into(),
                storage: StorageArgs::default(),
                schedule: ScheduleArgs::default(),
            }
            .validate()
        };
        assert!(matches!(
            args(&hex32).unwrap().audit_key,
            AuditKeySource::Value(_)
        ));
        assert_eq!(args("short").unwrap_err().setting, "SECPORTAL_AUDIT_KEY");
        assert!(matches!(
            Config::for_data_dir("/tmp/x".into(), None).unwrap().audit_key,
            AuditKeySource::File(p) if p == std::path::Path::new("/tmp/x/audit.key")
        ));
    }
}

/// Validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub addr: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub base_url: Url,
    pub smtp_url: Option<Url>,
    pub mail_from: lettre::message::Mailbox,
    pub session_idle: Duration,
    pub session_absolute: Duration,
    /// How many proxies of ours stand in front (0: take the peer address).
    pub trusted_proxies: usize,
    pub max_file_bytes: u64,
    /// The largest gateway log upload (its own limit: a year of logs is large).
    pub max_log_bytes: u64,
    /// Log searches running at once on this node (each reads up to gigabytes).
    pub log_searches: usize,
    pub max_files: usize,
    pub av_stale_days: i64,
    /// How long a request may take (uploads: each database step) before it answers 503.
    pub request_timeout: Duration,
    /// Where clamd scans uploads, if anywhere.
    pub clamd: Option<crate::files::clamd::Clamd>,
    /// How long a client may take over a request's headers.
    pub header_timeout: Duration,
    /// How long a connection may stay without traffic.
    pub idle_timeout: Duration,
    pub audit_key: AuditKeySource,
    /// How often the running server sweeps unreferenced files.
    pub file_sweep_every: Duration,
    /// How old an unreferenced file must be before a sweep removes it (the guard that keeps
    /// the file of an upload not yet recorded).
    pub file_sweep_min_age: Duration,
    /// The bearer token `/metrics` asks for; `None`: no `/metrics` (404).
    pub metrics_token: Option<String>,
    /// Whether reviewers and Center admins must set up a second factor before anything else.
    /// Always on in a running portal (no setting turns it off); the test harness turns it off
    /// for tests that are about something else.
    pub center_second_factor: bool,
    /// Requests per minute one API token may make.
    pub api_rate_per_minute: u32,
    /// The hour (JST) from which the day's retention purge runs.
    pub purge_hour: u32,
    /// Where files live, and this node's name.
    pub storage: Storage,
    /// How often the running server looks for gateway-log re-checks waiting (a mapping saved
    /// wakes it at once; this picks up those left by a node that stopped). `None`: never on
    /// its own (tests run them by hand).
    pub log_recheck_every: Option<Duration>,
    /// How often the scheduler runs, and from which hour the day's mail goes out.
    pub schedule: Schedule,
}

/// A setting that could not be used; names the setting.
#[derive(Debug, thiserror::Error)]
#[error("invalid setting {setting}: {reason}")]
pub struct ConfigError {
    pub setting: &'static str,
    pub reason: String,
}

fn bad(setting: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError {
        setting,
        reason: reason.into(),
    }
}

fn positive(setting: &'static str, raw: &str, max: u64) -> Result<u64, ConfigError> {
    match raw.trim().parse::<u64>() {
        Ok(n) if n >= 1 && n <= max => Ok(n),
        _ => Err(bad(
            setting,
            format!("expected a whole number from 1 to {max}, got {raw:?}"),
        )),
    }
}

impl ConfigArgs {
    /// Checks every value; the first bad one is named in the error.
    pub fn validate(&self) -> Result<Config, ConfigError> {
        let addr: SocketAddr = self.addr.parse().map_err(|_| {
            bad(
                "SECPORTAL_ADDR",
                format!(
                    "expected host:port such as 127.0.0.1:8080, got {:?}",
                    self.addr
                ),
            )
        })?;
        if self.data_dir.as_os_str().is_empty() {
            return Err(bad("SECPORTAL_DATA_DIR", "must not be empty"));
        }
        let database_url = match &self.database_url {
            Some(u) if !u.trim().is_empty() => {
                let u = u.trim().to_string();
                if !(u.starts_with("sqlite:")
                    || u.starts_with("postgres://")
                    || u.starts_with("postgresql://"))
                {
                    return Err(bad("DATABASE_URL", "expected sqlite:… or postgres://…"));
                }
                u
            }
            _ => format!("sqlite://{}", self.data_dir.join("secportal.db").display()),
        };
        let base_url = match &self.base_url {
            Some(b) if !b.trim().is_empty() => {
                let url =
                    Url::parse(b.trim()).map_err(|e| bad("SECPORTAL_BASE_URL", e.to_string()))?;
                if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
                    return Err(bad(
                        "SECPORTAL_BASE_URL",
                        "expected an http:// or https:// URL with a host",
                    ));
                }
                url
            }
            _ => Url::parse(&format!("http://{addr}"))
                .map_err(|e| bad("SECPORTAL_ADDR", e.to_string()))?,
        };
        let smtp_url = match &self.smtp_url {
            Some(s) if !s.trim().is_empty() => {
                let url =
                    Url::parse(s.trim()).map_err(|_| bad("SECPORTAL_SMTP_URL", "not a URL"))?;
                if !matches!(url.scheme(), "smtp" | "smtps") || url.host().is_none() {
                    return Err(bad(
                        "SECPORTAL_SMTP_URL",
                        "expected smtp://host:port or smtps://host:port",
                    ));
                }
                Some(url)
            }
            _ => None,
        };
        let mail_from = self.mail_from.parse().map_err(|_| {
            bad(
                "SECPORTAL_MAIL_FROM",
                "expected an address such as Name <no-reply@example.jp>",
            )
        })?;
        let idle = positive(
            "SECPORTAL_SESSION_IDLE_MINUTES",
            &self.session_idle_minutes,
            24 * 60,
        )?;
        let absolute = positive(
            "SECPORTAL_SESSION_ABSOLUTE_HOURS",
            &self.session_absolute_hours,
            24 * 30,
        )?;
        let max_file_mb = positive("SECPORTAL_MAX_FILE_MB", &self.max_file_mb, 100 * 1024)?;
        let max_log_mb = positive("SECPORTAL_MAX_LOG_MB", &self.max_log_mb, 1024 * 1024)?;
        let log_searches = positive("SECPORTAL_LOG_SEARCHES", &self.log_searches, 1000)?;
        let max_files = positive("SECPORTAL_MAX_FILES", &self.max_files, 1000)?;
        let av_stale_days = positive("SECPORTAL_AV_STALE_DAYS", &self.av_stale_days, 3650)? as i64;
        let request_timeout = positive(
            "SECPORTAL_REQUEST_TIMEOUT_SECS",
            &self.request_timeout_secs,
            3600,
        )?;
        let api_rate_per_minute = positive(
            "SECPORTAL_API_RATE_PER_MINUTE",
            &self.api_rate_per_minute,
            1_000_000,
        )? as u32;
        let purge_hour = match self.purge_hour.trim().parse::<u32>() {
            Ok(h) if h < 24 => h,
            _ => {
                return Err(bad(
                    "SECPORTAL_PURGE_HOUR",
                    format!("expected an hour from 0 to 23, got {:?}", self.purge_hour),
                ));
            }
        };
        let clamd = match self.clamd.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(raw) => Some(crate::files::clamd::Clamd::parse(raw).ok_or_else(|| {
                bad(
                    "SECPORTAL_CLAMD",
                    "expected unix:/path/to/clamd.ctl or tcp:host:port",
                )
            })?),
        };
        let header_timeout = positive(
            "SECPORTAL_HEADER_TIMEOUT_SECS",
            &self.header_timeout_secs,
            600,
        )?;
        let idle_timeout = positive("SECPORTAL_IDLE_TIMEOUT_SECS", &self.idle_timeout_secs, 3600)?;
        let trusted_proxies = match self.trust_proxy.trim() {
            "true" | "yes" => 1,
            "false" | "no" | "" => 0,
            n => match n.parse::<usize>() {
                Ok(n) if n <= 10 => n,
                _ => {
                    return Err(bad(
                        "SECPORTAL_TRUST_PROXY",
                        format!("expected true, false or a number of proxies, got {n:?}"),
                    ));
                }
            },
        };
        let audit_key = match (&self.audit_key, &self.audit_key_file) {
            (Some(k), _) if !k.trim().is_empty() => {
                if self
                    .audit_key_file
                    .as_ref()
                    .is_some_and(|f| !f.as_os_str().is_empty())
                {
                    return Err(bad(
                        "SECPORTAL_AUDIT_KEY",
                        "set either SECPORTAL_AUDIT_KEY or SECPORTAL_AUDIT_KEY_FILE, not both",
                    ));
                }
                AuditKeySource::Value(decode_audit_key(k).ok_or_else(|| {
                    bad(
                        "SECPORTAL_AUDIT_KEY",
                        format!(
                            "expected hex or base64 of at least {AUDIT_KEY_MIN_BYTES} bytes (e.g. `openssl rand -hex 32`)"
                        ),
                    )
                })?)
            }
            (_, Some(f)) if !f.as_os_str().is_empty() => AuditKeySource::File(f.clone()),
            _ => AuditKeySource::File(self.data_dir.join("audit.key")),
        };
        let storage = self.storage.validate(addr.port())?;
        let schedule = self.schedule.validate()?;
        let metrics_token = match self.metrics_token.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(t) if t.len() < METRICS_TOKEN_MIN_CHARS => {
                return Err(bad(
                    "SECPORTAL_METRICS_TOKEN",
                    format!(
                        "use at least {METRICS_TOKEN_MIN_CHARS} characters (e.g. `openssl rand -hex 32`)"
                    ),
                ));
            }
            Some(t) => Some(t.to_string()),
        };
        Ok(Config {
            addr,
            data_dir: self.data_dir.clone(),
            database_url,
            base_url,
            smtp_url,
            mail_from,
            session_idle: Duration::from_secs(idle * 60),
            session_absolute: Duration::from_secs(absolute * 3600),
            trusted_proxies,
            max_file_bytes: max_file_mb * 1024 * 1024,
            max_log_bytes: max_log_mb * 1024 * 1024,
            log_searches: log_searches as usize,
            max_files: max_files as usize,
            av_stale_days,
            request_timeout: Duration::from_secs(request_timeout),
            clamd,
            header_timeout: Duration::from_secs(header_timeout),
            idle_timeout: Duration::from_secs(idle_timeout),
            audit_key,
            file_sweep_every: Duration::from_secs(3600),
            file_sweep_min_age: Duration::from_secs(24 * 3600),
            metrics_token,
            center_second_factor: true,
            api_rate_per_minute,
            purge_hour,
            storage,
            log_recheck_every: Some(Duration::from_secs(15)),
            schedule,
        })
    }
}

impl Config {
    /// A configuration for tests and tools: given data folder and database, defaults elsewhere.
    pub fn for_data_dir(
        data_dir: PathBuf,
        database_url: Option<String>,
    ) -> Result<Config, ConfigError> {
        ConfigArgs {
            addr: "127.0.0.1:0".into(),
            data_dir,
            database_url,
            base_url: None,
            smtp_url: None,
            mail_from: "secportal <no-reply@secportal.invalid>".into(),
            session_idle_minutes: "30".into(),
            session_absolute_hours: "12".into(),
            trust_proxy: "false".into(),
            max_file_mb: "50".into(),
            max_log_mb: "4096".into(),
            log_searches: "2".into(),
            max_files: "20".into(),
            av_stale_days: "7".into(),
            request_timeout_secs: "15".into(),
            clamd: None,
            header_timeout_secs: "10".into(),
            idle_timeout_secs: "60".into(),
            audit_key: None,
            audit_key_file: None,
            metrics_token: None,
            api_rate_per_minute: "600".into(),
            purge_hour: "2".into(),
            storage: StorageArgs::default(),
            schedule: ScheduleArgs::default(),
        }
        .validate()
    }

    /// Whether links and cookies are for https.
    pub fn is_https(&self) -> bool {
        self.base_url.scheme() == "https"
    }

    /// An absolute link under the base URL.
    pub fn link(&self, path_and_query: &str) -> String {
        let base = self.base_url.as_str().trim_end_matches('/');
        format!("{base}{path_and_query}")
    }

    /// Where uploaded files are stored.
    pub fn files_dir(&self) -> PathBuf {
        self.data_dir.join("files")
    }

    /// Where mail files go when no SMTP server is configured.
    pub fn mail_dir(&self) -> PathBuf {
        self.data_dir.join("mail")
    }
}
