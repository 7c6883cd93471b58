//! Optional malware scanning through ClamAV's `clamd` (`SECPORTAL_CLAMD`: `unix:/path` or
//! `tcp:host:port`). Each upload is streamed to clamd's `INSTREAM` command after it is staged
//! and before it is kept; a finding, or a clamd that cannot answer, keeps nothing (fail closed).

use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Where clamd listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Clamd {
    Unix(PathBuf),
    Tcp(String),
}

/// What clamd said of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Clean,
    /// The signature's name.
    Found(String),
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// How long clamd may take over one file once it has all of it.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(120);
/// The largest chunk sent at once (clamd's default StreamMaxLength is per file, not chunk).
const CHUNK: usize = 256 * 1024;

impl Clamd {
    /// Reads `unix:/path`, `tcp:host:port`, an absolute socket path or `host:port`.
    pub fn parse(raw: &str) -> Option<Clamd> {
        let raw = raw.trim();
        if let Some(p) = raw.strip_prefix("unix:") {
            return (!p.is_empty()).then(|| Clamd::Unix(PathBuf::from(p)));
        }
        if let Some(a) = raw.strip_prefix("tcp:") {
            return a.contains(':').then(|| Clamd::Tcp(a.to_string()));
        }
        if raw.starts_with('/') {
            return Some(Clamd::Unix(PathBuf::from(raw)));
        }
        raw.contains(':').then(|| Clamd::Tcp(raw.to_string()))
    }

    async fn connect(&self) -> std::io::Result<Box<dyn Io>> {
        Ok(match self {
            Clamd::Unix(p) => Box::new(tokio::net::UnixStream::connect(p).await?),
            Clamd::Tcp(a) => Box::new(tokio::net::TcpStream::connect(a).await?),
        })
    }

    /// Streams a file to clamd and answers its verdict.
    pub async fn scan<S, E>(&self, mut body: S) -> anyhow::Result<Verdict>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::error::Error + Send + Sync + 'static,
    {
        let mut conn = self.connect().await?;
        conn.write_all(b"zINSTREAM\0").await?;
        while let Some(chunk) = body.next().await {
            let chunk = chunk?;
            for part in chunk.chunks(CHUNK) {
                conn.write_all(&(part.len() as u32).to_be_bytes()).await?;
                conn.write_all(part).await?;
            }
        }
        conn.write_all(&0u32.to_be_bytes()).await?;
        conn.flush().await?;
        let mut answer = Vec::new();
        tokio::time::timeout(ANSWER_TIMEOUT, conn.read_to_end(&mut answer)).await??;
        parse_answer(&answer)
    }
}

fn parse_answer(answer: &[u8]) -> anyhow::Result<Verdict> {
    let text = String::from_utf8_lossy(answer);
    let text = text.trim_end_matches(['\0', '\n']).trim();
    let verdict = text.strip_prefix("stream:").map(str::trim);
    match verdict {
        Some("OK") => Ok(Verdict::Clean),
        Some(v) if v.ends_with(" FOUND") => Ok(Verdict::Found(
            v.trim_end_matches(" FOUND").trim().to_string(),
        )),
        _ => anyhow::bail!("clamd answered {text:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_and_answers_are_read() {
        assert_eq!(
            Clamd::parse("unix:/run/clamav/clamd.ctl"),
            Some(Clamd::Unix("/run/clamav/clamd.ctl".into()))
        );
        assert_eq!(
            Clamd::parse("tcp:127.0.0.1:3310"),
            Some(Clamd::Tcp("127.0.0.1:3310".into()))
        );
        assert_eq!(Clamd::parse("nonsense"), None);
        assert_eq!(parse_answer(b"stream: OK\0").unwrap(), Verdict::Clean);
        assert_eq!(
            parse_answer(b"stream: Eicar-Signature FOUND\0").unwrap(),
            Verdict::Found("Eicar-Signature".into())
        );
        assert!(parse_answer(b"INSTREAM size limit exceeded. ERROR\0").is_err());
    }
}
