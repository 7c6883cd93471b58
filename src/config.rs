//! Typed configuration from flags and `SECPORTAL_*` environment variables, validated at start.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use url::Url;

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
    /// Trust the first address of `X-Forwarded-For` as the client IP (only behind a proxy you run).
    #[arg(
        long,
        env = "SECPORTAL_TRUST_PROXY",
        default_value = "false",
        global = true
    )]
    pub trust_proxy: String,
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
    pub trust_proxy: bool,
    pub max_file_bytes: u64,
    pub max_files: usize,
    pub av_stale_days: i64,
    /// How often the running server sweeps unreferenced files.
    pub file_sweep_every: Duration,
    /// How old an unreferenced file must be before a sweep removes it (the guard that keeps
    /// the file of an upload not yet recorded).
    pub file_sweep_min_age: Duration,
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
        let max_files = positive("SECPORTAL_MAX_FILES", &self.max_files, 1000)?;
        let av_stale_days = positive("SECPORTAL_AV_STALE_DAYS", &self.av_stale_days, 3650)? as i64;
        let trust_proxy = match self.trust_proxy.trim() {
            "true" | "1" | "yes" => true,
            "false" | "0" | "no" | "" => false,
            other => {
                return Err(bad(
                    "SECPORTAL_TRUST_PROXY",
                    format!("expected true or false, got {other:?}"),
                ));
            }
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
            trust_proxy,
            max_file_bytes: max_file_mb * 1024 * 1024,
            max_files: max_files as usize,
            av_stale_days,
            file_sweep_every: Duration::from_secs(3600),
            file_sweep_min_age: Duration::from_secs(24 * 3600),
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
            max_files: "20".into(),
            av_stale_days: "7".into(),
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
