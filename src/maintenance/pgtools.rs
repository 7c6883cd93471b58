//! `pg_dump` and `pg_restore`: the PostgreSQL client tools a backup and a restore run.

use std::ffi::OsString;

/// Runs a PostgreSQL client tool against `url` (its password goes in `PGPASSWORD`, not on the
/// command line where `ps` shows it); a missing tool is named with what it is needed for.
pub async fn run(
    program: &'static str,
    purpose: &str,
    url: &str,
    args: Vec<OsString>,
) -> anyhow::Result<()> {
    let mut url = url::Url::parse(url)?;
    let password = url.password().map(percent_decode);
    let _ = url.set_password(None);
    let mut cmd = std::process::Command::new(program);
    cmd.args(args).arg(format!("--dbname={url}"));
    if let Some(p) = password {
        cmd.env("PGPASSWORD", p);
    }
    let purpose = purpose.to_string();
    let output = tokio::task::spawn_blocking(move || cmd.output()).await?;
    let output = match output {
        Ok(o) => o,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(missing(program, &purpose));
        }
        Err(e) => anyhow::bail!("{program} could not be started: {e}"),
    };
    if !output.status.success() {
        anyhow::bail!(
            "{program} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}

/// Fails, naming the tool and what it is for, when `program` cannot be started.
pub async fn require(program: &'static str, purpose: &str) -> anyhow::Result<()> {
    let started = tokio::task::spawn_blocking(move || {
        std::process::Command::new(program)
            .arg("--version")
            .output()
    })
    .await?;
    match started {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(missing(program, purpose)),
        Err(e) => anyhow::bail!("{program} could not be started: {e}"),
    }
}

fn missing(program: &str, purpose: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "{program} is not installed (or not on PATH): it is needed to {purpose} a PostgreSQL \
         database. Install the PostgreSQL client tools (e.g. the postgresql-client package) of \
         the server's major version or newer"
    )
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("p={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| s.to_string())
}
