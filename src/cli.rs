//! Command line: `serve` (default), `migrate`, `user add`, `audit verify`, `retention purge`.

use std::io::Read;

use clap::{Parser, Subcommand};

use crate::config::{Config, ConfigArgs};
use crate::db::{self, Db, audit::Entry, users::NewUser};
use crate::domain::{Email, NewPassword, Role, UserCode};

/// secportal: NACCS security-measures reporting portal.
#[derive(Debug, Parser)]
#[command(name = "secportal", version, about)]
pub struct Cli {
    #[command(flatten)]
    pub config: ConfigArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the portal (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Back up into a new or empty folder: the database snapshot first, then the files, then
    /// manifest.json with the SHA-256 of each.
    Backup {
        /// The backup folder (created if missing; must be empty).
        dir: std::path::PathBuf,
    },
    /// Restore a backup folder (portal stopped): verify every hash, then the files, then the
    /// database (SQLite: a new file; PostgreSQL: the empty database DATABASE_URL names).
    Restore {
        /// The backup folder.
        dir: std::path::PathBuf,
        /// Replace an existing database (SQLite file, or a PostgreSQL database with tables).
        #[arg(long)]
        force: bool,
    },
    /// Check that every file the database refers to is in the store and unaltered (exit 1 if not).
    Check,
    /// Rebuild the review queue's counts per state from a full count of the submissions.
    Recount,
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Audit trail tools.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Check a gateway send/receive log against Table 7-4-2 through the code uploads use
    /// (plain, gzip or zip) and print the result as JSON with the time taken.
    CheckLog {
        file: std::path::PathBuf,
        /// Also compute the SHA-256 on the same chunks, as an upload does.
        #[arg(long)]
        sha256: bool,
    },
    /// Count the lines of a gateway log a Center search would find (the same reading and
    /// matching as the search of submitted logs) and print the count and the time taken as JSON.
    SearchLog {
        file: std::path::PathBuf,
        #[arg(long, default_value = "")]
        user_code: String,
        #[arg(long, default_value = "")]
        id_number: String,
        #[arg(long, default_value = "")]
        business_code: String,
        /// JST, `YYYY-MM-DD[ hh:mm[:ss]]`.
        #[arg(long, default_value = "")]
        from: String,
        #[arg(long, default_value = "")]
        to: String,
    },
    /// Retention tools.
    #[command(subcommand)]
    Retention(RetentionCommand),
    /// API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Make a personal access token for an active user (as on their アカウント page) and
    /// print its secret, once (for provisioning a script or a CI run).
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// A scope the user's role allows (repeat for more): reports:read, reports:write,
        /// review:read, review:write, exports:read.
        #[arg(long = "scope", required = true)]
        scopes: Vec<String>,
        /// 30, 90, 180 or 365.
        #[arg(long, default_value = "30")]
        days: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum RetentionCommand {
    /// Purge now what is past its retention period and not on legal hold, as the daily purge
    /// does (recorded in the audit trail as done from the command line).
    Purge {
        /// Only list what a purge now would take; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an active user; the password is read from standard input.
    Add {
        #[arg(long)]
        email: String,
        /// org_member, org_admin, reviewer or center_admin
        #[arg(long)]
        role: String,
        /// The organisation's NACCS user code (created, named after the code, if missing).
        #[arg(long)]
        org: Option<String>,
        /// Read the password from standard input (required: passwords never go on the command line).
        #[arg(long)]
        password_stdin: bool,
        /// Display name (default: the part of the e-mail before @).
        #[arg(long)]
        name: Option<String>,
    },
    /// Remove a user's second factor (for when no Center admin can sign in to do it).
    ResetSecondFactor {
        #[arg(long)]
        email: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Walk the keyed hash chain and name the first entry that does not match.
    Verify {
        /// A file of anchors (lines `secportal-audit-anchor seq=<n> hash=<hex>`, as logged
        /// daily and mailed in the Center's digest; other lines are skipped): each must still
        /// be in the chain with the same hash.
        #[arg(long, value_name = "FILE")]
        anchors: Option<std::path::PathBuf>,
    },
}

/// Runs a non-serving command; answers the process exit code.
pub async fn run(config: Config, command: Command) -> anyhow::Result<i32> {
    match command {
        Command::Serve => {
            crate::serve(config).await?;
            Ok(0)
        }
        Command::Backup { dir } => crate::maintenance::backup_command(&config, &dir).await,
        Command::Restore { dir, force } => {
            crate::maintenance::restore_command(&config, &dir, force).await
        }
        Command::Check => crate::maintenance::check_command(&config).await,
        Command::Recount => crate::maintenance::recount_command(&config).await,
        Command::CheckLog { file, sha256 } => {
            let started = std::time::Instant::now();
            let (bytes, check) =
                crate::files::gwlog::check_file(&file, sha256, config.max_log_bytes).await?;
            let secs = started.elapsed().as_secs_f64();
            match check {
                Ok(c) => println!(
                    "{}",
                    serde_json::json!({
                        "bytes": bytes,
                        "seconds": secs,
                        "mb_per_s": bytes as f64 / 1e6 / secs,
                        "lines": c.lines,
                        "sent": c.sent,
                        "received": c.received,
                        "problems": c.problems(),
                        "first": c.first,
                        "last": c.last,
                        "days": c.days.len(),
                    })
                ),
                Err(r) => {
                    eprintln!("refused: {r:?}");
                    return Ok(1);
                }
            }
            Ok(0)
        }
        Command::SearchLog {
            file,
            user_code,
            id_number,
            business_code,
            from,
            to,
        } => {
            let input = crate::app::log_search::SearchInput {
                user_code,
                id_number,
                business_code,
                from,
                to,
            };
            let started = std::time::Instant::now();
            let found =
                crate::app::log_search::count_in_file(&file, &input, config.max_log_bytes).await;
            let secs = started.elapsed().as_secs_f64();
            match found {
                Ok(Ok(n)) => {
                    println!("{}", serde_json::json!({ "matches": n, "seconds": secs }));
                    Ok(0)
                }
                Ok(Err(r)) => {
                    eprintln!("refused: {r:?}");
                    Ok(1)
                }
                Err(e) => {
                    eprintln!("search refused: {e:?}");
                    Ok(2)
                }
            }
        }
        Command::Migrate => {
            let db = Db::connect(&config.database_url).await?;
            let ran = db::migrate::run(&db).await?;
            println!("{ran} migration(s) applied");
            Ok(0)
        }
        Command::User(UserCommand::Add {
            email,
            role,
            org,
            password_stdin,
            name,
        }) => {
            if !password_stdin {
                anyhow::bail!("--password-stdin is required: pipe the password on standard input");
            }
            let mut password = String::new();
            std::io::stdin().read_to_string(&mut password)?;
            let password = password.trim_end_matches(['\r', '\n']).to_string();
            add_user(
                &config,
                &email,
                &role,
                org.as_deref(),
                &password,
                name.as_deref(),
            )
            .await?;
            println!("user {} created", email.trim());
            Ok(0)
        }
        Command::User(UserCommand::ResetSecondFactor { email }) => {
            if reset_second_factor(&config, &email).await? {
                println!("second factor of {} removed", email.trim());
                Ok(0)
            } else {
                println!("{} has no second factor", email.trim());
                Ok(1)
            }
        }
        Command::Token(TokenCommand::Add {
            email,
            name,
            scopes,
            days,
        }) => {
            let secret = add_token(&config, &email, &name, scopes, &days).await?;
            println!("{secret}");
            Ok(0)
        }
        Command::Retention(RetentionCommand::Purge { dry_run }) => {
            crate::retention::purge_command(&config, dry_run).await
        }
        Command::Audit(AuditCommand::Verify { anchors }) => {
            let anchors = match anchors {
                None => vec![],
                Some(path) => {
                    let text = tokio::fs::read_to_string(&path)
                        .await
                        .map_err(|e| anyhow::anyhow!("--anchors {}: {e}", path.display()))?;
                    let list = db::audit::parse_anchors(&text)
                        .map_err(|e| anyhow::anyhow!("--anchors {}: {e}", path.display()))?;
                    if list.is_empty() {
                        anyhow::bail!("--anchors {}: no anchor lines in it", path.display());
                    }
                    list
                }
            };
            let key =
                crate::security::audit_key(&config, crate::security::KeyFile::MustExist).await?;
            let db = Db::connect(&config.database_url).await?.with_audit_key(key);
            match db::audit::verify_against(&db, &anchors).await? {
                db::audit::Verdict::Intact(n) => {
                    let from = db::audit::keyed_from(&db).await?.unwrap_or(1);
                    match db::audit::checkpoint(&db).await? {
                        None => println!("audit trail intact: {n} entries"),
                        Some(c) => println!(
                            "audit trail intact: entries {} to {n}; entries 1 to {} were removed by the retention purge (sealed checkpoint)",
                            c.through_seq + 1,
                            c.through_seq
                        ),
                    }
                    if from > 1 {
                        println!(
                            "entries 1 to {} predate the audit key: unkeyed, bound to the keyed chain by its seal (changes made to them before the switch-over show only against anchors)",
                            from - 1
                        );
                    }
                    if !anchors.is_empty() {
                        println!("{} anchor(s) matched", anchors.len());
                    }
                    Ok(0)
                }
                db::audit::Verdict::Broken { seq, reason } => {
                    println!("audit trail broken at entry {seq}: {reason}");
                    Ok(1)
                }
            }
        }
    }
}

/// Creates an active user from the shell (also the way to make the first Center admin).
pub async fn add_user(
    config: &Config,
    email: &str,
    role: &str,
    org: Option<&str>,
    password: &str,
    name: Option<&str>,
) -> anyhow::Result<()> {
    let email =
        Email::parse(email).map_err(|_| anyhow::anyhow!("--email: not a valid e-mail address"))?;
    let role = Role::parse(role).ok_or_else(|| {
        anyhow::anyhow!("--role: expected org_member, org_admin, reviewer or center_admin")
    })?;
    let password = NewPassword::parse(password, password).map_err(|p| {
        anyhow::anyhow!(
            "password refused: {}",
            match p {
                crate::domain::PasswordProblem::TooShort => "at least 12 characters",
                crate::domain::PasswordProblem::TooLong => "at most 256 characters",
                crate::domain::PasswordProblem::TooCommon => "one of the most common passwords",
                crate::domain::PasswordProblem::TooSimple => {
                    "characters repeated or in a run (aaaa…, 1234…)"
                }
                crate::domain::PasswordProblem::Mismatch => "mismatch",
            }
        )
    })?;
    let code = match (role.is_org(), org) {
        (true, Some(c)) => Some(
            UserCode::parse(c)
                .map_err(|_| anyhow::anyhow!("--org: a NACCS user code is 5 letters or digits"))?,
        ),
        (true, None) => anyhow::bail!("--org is required for org roles"),
        (false, Some(_)) => anyhow::bail!("--org is only for org roles"),
        (false, None) => None,
    };
    let display = name
        .map(str::to_string)
        .unwrap_or_else(|| email.as_str().split('@').next().unwrap_or("").to_string());
    let hash = crate::security::hash_password(password.expose().to_string()).await?;
    let db = crate::open_db(config).await?;
    let mut tx = db.begin().await?;
    let org_id = match &code {
        None => None,
        Some(code) => match db::orgs::by_code(&mut tx, code.as_str()).await? {
            Some(id) => Some(id),
            None => {
                let id = db::orgs::insert(&mut tx, code.as_str(), code.as_str()).await?;
                db::audit::append(
                    &mut tx,
                    &cli_entry("organisation.created", Some(id), code.as_str()),
                )
                .await?;
                Some(id)
            }
        },
    };
    let new = NewUser {
        org_id,
        email: email.as_str(),
        display_name: &display,
        role,
        status: "active",
        password_hash: Some(&hash),
    };
    match db::users::insert(&mut tx, &new).await {
        Ok(_) => {}
        Err(e) if db::is_unique_violation(&e) => {
            anyhow::bail!("--email: a user with this address already exists")
        }
        Err(e) => return Err(e.into()),
    }
    let mut entry = cli_entry("user.created", org_id, email.as_str());
    entry.detail = serde_json::json!({ "role": role.as_str(), "via": "cli" });
    db::audit::append(&mut tx, &entry).await?;
    tx.commit().await?;
    db.close().await;
    Ok(())
}

/// Removes a user's second factor (audited as done from the command line) and mails the user
/// as the page does; answers whether there was one. The web page for this is a Center
/// admin's; this is for when the last Center admin has lost theirs. A mail that cannot be
/// sent is reported on standard error (the reset stands).
pub async fn reset_second_factor(config: &Config, email: &str) -> anyhow::Result<bool> {
    let email =
        Email::parse(email).map_err(|_| anyhow::anyhow!("--email: not a valid e-mail address"))?;
    let db = crate::open_db(config).await?;
    let user = db::users::by_email(&db, email.as_str())
        .await?
        .ok_or_else(|| anyhow::anyhow!("--email: no user with this address"))?;
    let mut tx = db.begin().await?;
    let had = db::second_factor::reset(&mut tx, user.id).await?;
    if had {
        let mut entry = cli_entry("user.second_factor_reset", user.org_id, email.as_str());
        entry.detail = serde_json::json!({ "via": "cli" });
        db::audit::append(&mut tx, &entry).await?;
    }
    tx.commit().await?;
    db.close().await;
    if had {
        let out = crate::app::users::second_factor_reset_mail(config, user.email.clone());
        if let Err(e) = crate::mail::Mailer::from_config(config)?.send(out).await {
            eprintln!(
                "the second factor was reset, but the mail to the user could not be sent: {e}"
            );
        }
    }
    Ok(had)
}

/// Makes a token for an active user from the shell; answers its secret.
pub async fn add_token(
    config: &Config,
    email: &str,
    name: &str,
    scopes: Vec<String>,
    days: &str,
) -> anyhow::Result<String> {
    let email =
        Email::parse(email).map_err(|_| anyhow::anyhow!("--email: not a valid e-mail address"))?;
    let db = crate::open_db(config).await?;
    let user = db::users::by_email(&db, email.as_str())
        .await?
        .filter(|u| u.status == "active")
        .ok_or_else(|| anyhow::anyhow!("--email: no active user with this address"))?;
    let role = Role::parse(&user.role).ok_or_else(|| anyhow::anyhow!("unknown role"))?;
    let actor = crate::app::Actor {
        id: user.id,
        email: user.email.clone(),
        role,
        org_id: user.org_id,
        ip: "cli".into(),
    };
    let input = crate::app::tokens::CreateInput {
        name: name.to_string(),
        expires_days: days.to_string(),
        scopes,
    };
    let created = match crate::app::tokens::create_in(&db, &actor, input).await {
        Ok(c) => c,
        Err(crate::app::Error::Invalid(errors)) => {
            let tr = crate::i18n::Tr::new(crate::i18n::Lang::En);
            let why: Vec<String> = errors
                .iter()
                .map(|(f, k)| format!("--{f}: {}", tr.t(k)))
                .collect();
            anyhow::bail!("{}", why.join("; "))
        }
        Err(e) => return Err(e.into()),
    };
    db.close().await;
    Ok(created.secret)
}

fn cli_entry(action: &'static str, org_id: Option<uuid::Uuid>, target: &str) -> Entry {
    Entry {
        actor_id: None,
        actor: "cli".into(),
        org_id,
        action,
        target: target.to_string(),
        ip: "-".into(),
        detail: serde_json::Value::Null,
    }
}
