//! Outgoing mail: SMTP when configured, otherwise `.eml` files under the data folder.

use std::path::PathBuf;

use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Body, Mailbox, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::Config;
use crate::i18n::{Lang, Tr};

/// How mail leaves the portal.
#[derive(Clone)]
pub enum Mailer {
    /// Written as files (the default, so a newcomer can follow links without a mail server).
    Files { dir: PathBuf, from: Mailbox },
    /// Sent through an SMTP server.
    Smtp {
        transport: AsyncSmtpTransport<Tokio1Executor>,
        from: Mailbox,
    },
}

/// A message ready to go: the same text in Japanese, then English.
pub struct Outgoing {
    pub to: String,
    /// Locale key prefix: `mail.<kind>` with `.subject` and `.body`.
    pub kind: String,
    pub args: Vec<(String, String)>,
}

impl Outgoing {
    pub fn new(to: impl Into<String>, kind: &str, args: Vec<(&str, String)>) -> Outgoing {
        Outgoing {
            to: to.into(),
            kind: kind.to_string(),
            args: args.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
        }
    }
}

impl Mailer {
    /// Builds the mailer from the configuration.
    pub fn from_config(cfg: &Config) -> anyhow::Result<Mailer> {
        match &cfg.smtp_url {
            None => Ok(Mailer::Files {
                dir: cfg.mail_dir(),
                from: cfg.mail_from.clone(),
            }),
            Some(url) => {
                let transport =
                    AsyncSmtpTransport::<Tokio1Executor>::from_url(url.as_str())?.build();
                Ok(Mailer::Smtp {
                    transport,
                    from: cfg.mail_from.clone(),
                })
            }
        }
    }

    /// A message's subject and body in both languages (Japanese first).
    pub fn render(out: &Outgoing) -> (String, String) {
        let args: Vec<(&str, &str)> = out
            .args
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let ja = Tr::new(Lang::Ja);
        let en = Tr::new(Lang::En);
        let subject = format!(
            "{} / {}",
            filled(ja.t(&format!("{}.subject", out.kind)), &args),
            filled(en.t(&format!("{}.subject", out.kind)), &args)
        );
        let body = format!(
            "{}\n\n---- English ----\n\n{}\n",
            filled(ja.t(&format!("{}.body", out.kind)), &args),
            filled(en.t(&format!("{}.body", out.kind)), &args)
        );
        (subject, body)
    }

    /// Sends a message; with the file transport answers the file's path.
    pub async fn send(&self, out: Outgoing) -> anyhow::Result<Option<PathBuf>> {
        let (subject, body) = Self::render(&out);
        let to: Mailbox = out.to.parse()?;
        let from = match self {
            Mailer::Files { from, .. } | Mailer::Smtp { from, .. } => from.clone(),
        };
        let builder = Message::builder().from(from).to(to).subject(subject);
        let msg = match self {
            // Files stay readable in a text editor (8bit UTF-8), so links can be followed.
            Mailer::Files { .. } => builder.singlepart(
                SinglePart::builder()
                    .header(ContentType::TEXT_PLAIN)
                    .header(ContentTransferEncoding::EightBit)
                    // Our lines are short and NUL-free, which is all 8bit asks for.
                    .body(Body::dangerous_pre_encoded(
                        crlf(&body).into_bytes(),
                        ContentTransferEncoding::EightBit,
                    )),
            )?,
            Mailer::Smtp { .. } => builder.header(ContentType::TEXT_PLAIN).body(body)?,
        };
        match self {
            Mailer::Files { dir, .. } => {
                let dir = dir.clone();
                let bytes = msg.formatted();
                Ok(Some(
                    tokio::task::spawn_blocking(move || write_mail_file(&dir, &bytes)).await??,
                ))
            }
            Mailer::Smtp { transport, .. } => {
                transport.send(msg).await?;
                Ok(None)
            }
        }
    }
}

/// Writes one `.eml` under `dir`: to a temporary name, every byte checked written and
/// fsynced, then renamed. Plain blocking writes on purpose: `tokio::fs::File` hands writes to
/// a background thread and `sync_all` does not report their errors, so on a full disk it
/// left an empty file that counted as sent. Any error here leaves no `.eml` behind and the
/// mail unsent (the outbox tries again).
fn write_mail_file(dir: &std::path::Path, bytes: &[u8]) -> anyhow::Result<PathBuf> {
    use std::io::Write;
    std::fs::create_dir_all(dir)?;
    let name = format!(
        "{}-{}.eml",
        chrono::Utc::now().format("%Y%m%dT%H%M%S"),
        uuid::Uuid::now_v7()
    );
    let path = dir.join(name);
    let tmp = path.with_extension("eml.tmp");
    let written = (|| -> std::io::Result<()> {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&tmp, &path)?;
        // The rename itself is durable only once the folder is synced.
        std::fs::File::open(dir)?.sync_all()
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e.into());
    }
    Ok(path)
}

/// Normalises line endings to CRLF, as mail requires.
fn crlf(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\n', "\r\n")
}

/// A message's text from its template and values: each `{name}` given a value is replaced by
/// it, and a place no value was given for (a notice stored by an older version, with fewer
/// values) is left out, with its brackets. Values are put in as they are, never read again for
/// places (a reason that says `{path}` keeps it).
pub fn filled(template: &str, args: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            break;
        };
        let name = &after[..close];
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
            out.push_str(&rest[..open + 1]);
            rest = after;
            continue;
        }
        let mut head = &rest[..open];
        let mut tail = &after[close + 1..];
        match args.iter().find(|(k, _)| *k == name) {
            Some((_, v)) => {
                out.push_str(head);
                out.push_str(v);
            }
            None => {
                for (l, r) in [("（", "）"), (" (", ")"), ("(", ")")] {
                    if head.ends_with(l) && tail.starts_with(r) {
                        head = &head[..head.len() - l.len()];
                        tail = &tail[r.len()..];
                        break;
                    }
                }
                out.push_str(head);
            }
        }
        rest = tail;
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod filled_tests {
    use super::filled;

    #[test]
    fn places_are_filled_and_those_without_a_value_left_out_with_their_brackets() {
        let r = [("receipt", "SR-1"), ("reason", "{path} を確認")];
        assert_eq!(
            filled("届出 {receipt}（{item_ja}）を受理しました", &r),
            "届出 SR-1を受理しました"
        );
        assert_eq!(
            filled("Submission {receipt} ({item_en}) accepted", &r),
            "Submission SR-1 accepted"
        );
        assert_eq!(filled("理由: {reason}", &r), "理由: {path} を確認");
        assert_eq!(filled("{ \"a\": 1 } と {X}", &r), "{ \"a\": 1 } と {X}");
        assert_eq!(filled("no places", &r), "no places");
    }
}
