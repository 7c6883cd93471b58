//! When the scheduler runs: how often it wakes, and from which hour (JST) the day's scheduled
//! mail goes out.

use std::time::Duration;

use clap::Args;

use super::{ConfigError, bad};

/// Raw scheduler settings.
#[derive(Debug, Clone, Args)]
pub struct ScheduleArgs {
    /// The hour (Japan time, 0–23) from which the day's scheduled mail (the Center's digest,
    /// due-date reminders) goes out.
    #[arg(long, env = "SECPORTAL_MAIL_HOUR", default_value = "8", global = true)]
    pub mail_hour: String,
    /// Seconds between the scheduler's runs (scheduled mail, mail sent again, the purge).
    #[arg(
        long,
        env = "SECPORTAL_SCHEDULER_SECS",
        default_value = "60",
        global = true
    )]
    pub scheduler_secs: String,
}

impl Default for ScheduleArgs {
    fn default() -> Self {
        ScheduleArgs {
            mail_hour: "8".into(),
            scheduler_secs: "60".into(),
        }
    }
}

/// Validated scheduler settings.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    /// The hour (JST) from which the day's scheduled mail goes out.
    pub mail_hour: u32,
    /// How often the scheduler runs.
    pub every: Duration,
}

impl ScheduleArgs {
    /// Checks the settings.
    pub fn validate(&self) -> Result<Schedule, ConfigError> {
        let mail_hour = match self.mail_hour.trim().parse::<u32>() {
            Ok(h) if h < 24 => h,
            _ => {
                return Err(bad(
                    "SECPORTAL_MAIL_HOUR",
                    format!("expected an hour from 0 to 23, got {:?}", self.mail_hour),
                ));
            }
        };
        let every = match self.scheduler_secs.trim().parse::<u64>() {
            Ok(s) if (1..=3600).contains(&s) => Duration::from_secs(s),
            _ => {
                return Err(bad(
                    "SECPORTAL_SCHEDULER_SECS",
                    format!(
                        "expected a whole number of seconds from 1 to 3600, got {:?}",
                        self.scheduler_secs
                    ),
                ));
            }
        };
        Ok(Schedule { mail_hour, every })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheduler_settings_are_checked() {
        let s = ScheduleArgs::default().validate().unwrap();
        assert_eq!((s.mail_hour, s.every), (8, Duration::from_secs(60)));
        for (hour, secs, setting) in [
            ("24", "60", "SECPORTAL_MAIL_HOUR"),
            ("eight", "60", "SECPORTAL_MAIL_HOUR"),
            ("8", "0", "SECPORTAL_SCHEDULER_SECS"),
            ("8", "3601", "SECPORTAL_SCHEDULER_SECS"),
        ] {
            let err = ScheduleArgs {
                mail_hour: hour.into(),
                scheduler_secs: secs.into(),
            }
            .validate()
            .unwrap_err();
            assert_eq!(err.setting, setting);
        }
    }
}
