//! Walking the chain: whole (`audit verify`, optionally against anchors kept outside the
//! database) or one page of it (the trail page marks what does not hold).

use std::collections::BTreeMap;

use super::{Db, Mac, Row, genesis, on_db, seal_of};

/// Result of walking the chain.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Every entry matches; how many there are.
    Intact(i64),
    /// The first entry (by sequence number) that does not match, and why.
    Broken { seq: i64, reason: &'static str },
}

/// The chain's head at some moment, kept outside the database: the line
/// `secportal-audit-anchor seq=<n> hash=<64 hex>`, written daily to the log and into the
/// Center's digest mail. A file of such lines (log lines as they are, mail text, or the bare
/// lines) is what `secportal audit verify --anchors FILE` reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    pub seq: i64,
    pub hash: String,
}

const MARK: &str = "secportal-audit-anchor";

impl Anchor {
    /// The line as logged and mailed.
    pub fn line(&self) -> String {
        format!("{MARK} seq={} hash={}", self.seq, self.hash)
    }
}

/// A line that names an anchor but cannot be read.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("line {line}: expected `{MARK} seq=<number> hash=<64 hex digits>`")]
pub struct AnchorError {
    pub line: usize,
}

/// Reads every anchor in `text`; lines without the mark are skipped (so a whole log will do),
/// and the same anchor twice counts once.
pub fn parse_anchors(text: &str) -> Result<Vec<Anchor>, AnchorError> {
    let mut out: Vec<Anchor> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let mut rest = line;
        while let Some(at) = rest.find(MARK) {
            rest = &rest[at + MARK.len()..];
            let bad = AnchorError { line: i + 1 };
            let r = rest.trim_start().strip_prefix("seq=").ok_or(bad.clone())?;
            let digits = r.len() - r.trim_start_matches(|c: char| c.is_ascii_digit()).len();
            let seq: i64 = r[..digits].parse().map_err(|_| bad.clone())?;
            let r = r[digits..]
                .trim_start()
                .strip_prefix("hash=")
                .ok_or(bad.clone())?;
            let hash = r.get(..64).ok_or(bad.clone())?;
            if !hash.bytes().all(|b| b.is_ascii_hexdigit())
                || r[64..].starts_with(|c: char| c.is_ascii_hexdigit())
            {
                return Err(bad);
            }
            let a = Anchor {
                seq,
                hash: hash.to_ascii_lowercase(),
            };
            if !out.contains(&a) {
                out.push(a);
            }
            rest = &r[64..];
        }
    }
    Ok(out)
}

struct Head {
    seq: i64,
    hash: String,
    keyed_from: Option<i64>,
    seal: Option<String>,
}

async fn head(db: &Db) -> Result<Head, sqlx::Error> {
    let (seq, hash, keyed_from, seal): (i64, String, Option<i64>, Option<String>) = on_db!(db, p => sqlx::query_as(
        "SELECT seq, hash, keyed_from, seal FROM audit_head WHERE id = 1",
    )
    .fetch_one(p)
    .await)?;
    Ok(Head {
        seq,
        hash,
        keyed_from,
        seal,
    })
}

/// Walks the whole chain in pages and names the first entry that does not match.
pub async fn verify(db: &Db) -> Result<Verdict, sqlx::Error> {
    verify_against(db, &[]).await
}

/// Like [`verify`], and each anchor must be in the chain with the hash it had: an anchor past
/// the end means entries were cut off (and the head moved back).
pub async fn verify_against(db: &Db, anchors: &[Anchor]) -> Result<Verdict, sqlx::Error> {
    let key = db.audit_key.bytes()?;
    let head = head(db).await?;
    let broken = |seq: i64, reason: &'static str| -> Result<Verdict, sqlx::Error> {
        Ok(Verdict::Broken { seq, reason })
    };
    // Entries the walk from 1 would never meet.
    let stray: Option<i64> = on_db!(db, p => sqlx::query_scalar("SELECT MIN(seq) FROM audit_log WHERE seq < 1").fetch_one(p).await)?;
    if let Some(seq) = stray {
        return broken(seq, "entry outside the chain (numbered below 1)");
    }
    // No switch-over recorded: every entry must be keyed (never trust an unkeyed one by default).
    let keyed_from = match (head.keyed_from, &head.seal) {
        (Some(from), Some(_)) if from >= 1 => from,
        (None, None) => 1,
        _ => return broken(1, "the switch-over to the keyed chain is damaged"),
    };
    let anchored: BTreeMap<i64, &str> = anchors
        .iter()
        .filter(|a| a.seq >= 1)
        .map(|a| (a.seq, a.hash.as_str()))
        .collect();
    // After a retention purge the walk starts at the checkpoint, whose seal must hold.
    let (mut prev, mut expected_seq) = match super::checkpoint(db).await? {
        None => (genesis(), 1i64),
        Some(c) => {
            let sealed = super::checkpoint::seal_of(&key, c.through_seq, &c.through_hash);
            if c.through_seq < 1 || !crate::security::constant_time_eq(&c.seal, &sealed) {
                return broken(
                    c.through_seq.max(0) + 1,
                    "the retention checkpoint does not match its seal",
                );
            }
            if anchored
                .get(&c.through_seq)
                .is_some_and(|h| *h != c.through_hash)
            {
                return broken(
                    c.through_seq,
                    "hash differs from the anchor kept outside the database",
                );
            }
            (c.through_hash, c.through_seq + 1)
        }
    };
    let seal_holds = |prev: &str| {
        head.seal
            .as_deref()
            .is_none_or(|s| crate::security::constant_time_eq(s, &seal_of(&key, keyed_from, prev)))
    };
    loop {
        let page: Vec<Row> = on_db!(db, p => sqlx::query_as::<_, Row>(
            "SELECT seq, at, actor_id, actor, org_id, action, target, ip, detail, prev_hash, hash FROM audit_log \
             WHERE seq >= $1 ORDER BY seq LIMIT 1000",
        )
        .bind(expected_seq)
        .fetch_all(p)
        .await)?;
        if page.is_empty() {
            break;
        }
        for r in page {
            if r.seq != expected_seq {
                return broken(expected_seq, "missing entry");
            }
            if r.seq == keyed_from && !seal_holds(&prev) {
                return broken(
                    r.seq,
                    "the switch-over to the keyed chain does not match its seal",
                );
            }
            if r.prev_hash != prev {
                return broken(r.seq, "previous hash does not match");
            }
            let mac = if r.seq < keyed_from {
                Mac::Unkeyed
            } else {
                Mac::Keyed(&key)
            };
            if !crate::security::constant_time_eq(&r.expected_hash(mac), &r.hash) {
                return broken(r.seq, "content does not match its hash");
            }
            if anchored.get(&r.seq).is_some_and(|h| *h != r.hash) {
                return broken(
                    r.seq,
                    "hash differs from the anchor kept outside the database",
                );
            }
            prev = r.hash;
            expected_seq += 1;
        }
    }
    let last = expected_seq - 1;
    if keyed_from > last + 1 || (keyed_from == last + 1 && !seal_holds(&prev)) {
        return broken(
            keyed_from.min(last + 1),
            "the switch-over to the keyed chain does not match its seal",
        );
    }
    if head.seq > last {
        return broken(expected_seq, "entries after this point are missing");
    }
    if head.seq != last || head.hash != prev {
        return broken(head.seq.max(0), "the head does not name the last entry");
    }
    if anchored.range(last + 1..).next().is_some() {
        return broken(
            expected_seq,
            "entries cut off: the chain ends before an anchor kept outside the database",
        );
    }
    Ok(Verdict::Intact(last))
}

/// Whether the loaded key is the one the chain was written with: the newest keyed entry's hash
/// (or, before any keyed entry, the switch-over's seal) holds under it. A database with no
/// entry yet fits any key. Read at start-up, so that a copy restored without its key file (or
/// with another node's) refuses to start instead of writing under a new key.
pub async fn key_fits(db: &Db) -> Result<bool, sqlx::Error> {
    let key = db.audit_key.bytes()?;
    let head = head(db).await?;
    let Some(keyed_from) = head.keyed_from else {
        return Ok(true);
    };
    if head.seq >= keyed_from {
        let row: Option<Row> = on_db!(db, p => sqlx::query_as::<_, Row>(
            "SELECT seq, at, actor_id, actor, org_id, action, target, ip, detail, prev_hash, hash FROM audit_log WHERE seq = $1",
        )
        .bind(head.seq)
        .fetch_optional(p)
        .await)?;
        // The newest entry gone (a broken chain) is for `audit verify` to tell.
        return Ok(row.is_none_or(|r| {
            crate::security::constant_time_eq(&r.expected_hash(Mac::Keyed(&key)), &r.hash)
        }));
    }
    Ok(head.seal.as_deref().is_none_or(|s| {
        crate::security::constant_time_eq(s, &seal_of(&key, keyed_from, &head.hash))
    }))
}

/// Whether the chain was ever sealed to a key (its switch-over recorded): from then on only
/// that key may write it. A trail an older version wrote without a key is not.
pub async fn sealed(db: &Db) -> Result<bool, sqlx::Error> {
    Ok(head(db).await?.keyed_from.is_some())
}

/// How a shown entry stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Its keyed hash matches (and its link to the entry before it, when that is shown too).
    Holds,
    /// Written before the chain had a key: its unkeyed hash matches, which proves little.
    Unkeyed,
    /// Does not match: changed, forged or misplaced.
    Fails,
}

/// How each of these entries (one page of the trail, any order) stands, with one read of the
/// head (and one of the entry before the switch-over); the full walk is `audit verify`.
pub async fn standing(db: &Db, rows: &[Row]) -> Result<Vec<Standing>, sqlx::Error> {
    let key = db.audit_key.bytes()?;
    let head = head(db).await?;
    let keyed_from = match (head.keyed_from, &head.seal) {
        (Some(from), Some(seal)) if from >= 1 => {
            let prev: Option<String> = if from == 1 {
                Some(genesis())
            } else {
                on_db!(db, p => sqlx::query_scalar("SELECT hash FROM audit_log WHERE seq = $1").bind(from - 1).fetch_optional(p).await)?
            };
            let holds = prev.is_some_and(|prev| {
                crate::security::constant_time_eq(seal, &seal_of(&key, from, &prev))
            });
            // A moved switch-over: nothing can be taken as unkeyed.
            if holds { from } else { 1 }
        }
        _ => 1,
    };
    let by_seq: BTreeMap<i64, &str> = rows.iter().map(|r| (r.seq, r.hash.as_str())).collect();
    Ok(rows
        .iter()
        .map(|r| {
            if r.seq < 1 || r.seq > head.seq {
                return Standing::Fails;
            }
            let linked = if r.seq == 1 {
                r.prev_hash == genesis()
            } else {
                by_seq
                    .get(&(r.seq - 1))
                    .is_none_or(|prev| *prev == r.prev_hash)
            };
            if !linked {
                return Standing::Fails;
            }
            let (mac, ok) = if r.seq < keyed_from {
                (Mac::Unkeyed, Standing::Unkeyed)
            } else {
                (Mac::Keyed(&key), Standing::Holds)
            };
            if crate::security::constant_time_eq(&r.expected_hash(mac), &r.hash) {
                ok
            } else {
                Standing::Fails
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_are_read_from_log_lines_mail_text_and_bare_lines() {
        let h = "ab".repeat(32);
        let text = format!(
            "{{\"timestamp\":\"2026-12-01T00:00:00Z\",\"level\":\"INFO\",\"fields\":{{\"message\":\"secportal-audit-anchor seq=12 hash={h}\",\"seq\":12}}}}\n\
             unrelated line\n\
             監査証跡の照合値: secportal-audit-anchor seq=40 hash={}\n\
             secportal-audit-anchor seq=12 hash={h}\n",
            "CD".repeat(32)
        );
        assert_eq!(
            parse_anchors(&text).unwrap(),
            vec![
                Anchor {
                    seq: 12,
                    hash: h.clone()
                },
                Anchor {
                    seq: 40,
                    hash: "cd".repeat(32)
                }
            ]
        );
        assert_eq!(
            parse_anchors(
                &Anchor {
                    seq: 3,
                    hash: h.clone()
                }
                .line()
            )
            .unwrap(),
            vec![Anchor {
                seq: 3,
                hash: h.clone()
            }]
        );
    }

    #[test]
    fn a_damaged_anchor_line_is_named_not_skipped() {
        let h = "ab".repeat(32);
        for bad in [
            "secportal-audit-anchor seq= hash=".to_string(),
            format!("secportal-audit-anchor seq=-1 hash={h}"),
            format!("secportal-audit-anchor seq=5 hash={}", &h[..63]),
            format!("secportal-audit-anchor seq=5 hash={h}0"),
            format!("secportal-audit-anchor hash={h}"),
        ] {
            assert_eq!(
                parse_anchors(&format!("ok\n{bad}\n")),
                Err(AnchorError { line: 2 }),
                "{bad}"
            );
        }
    }
}
