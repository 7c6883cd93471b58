//! The audit trail as people read it: Center admins every entry, an org admin their own
//! organisation's; newest first, filtered, each entry with how it stands against the chain.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Actor, App, Error};
pub use crate::db::audit::Standing;
use crate::db::{
    self,
    audit::{Row, TrailFilter},
};
use crate::domain::Role;
use crate::domain::dates::date;

/// Entries on a page.
const PAGE: i64 = 100;

/// The trail's filters as typed (every one optional).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct TrailParams {
    /// An action or its prefix (`login`, `submission.`).
    pub action: String,
    /// Part of the actor's e-mail or name, or what the page calls them (システム …).
    pub actor: String,
    /// The first day (JST).
    pub from: String,
    /// The last day (JST).
    pub to: String,
    /// Entries before this sequence number (the next page).
    pub before: Option<i64>,
    /// The Center's trail of one organisation: one of its user codes, as typed.
    #[serde(default)]
    pub org: String,
}

/// One page of the trail.
#[derive(Debug, Clone)]
pub struct TrailPage {
    pub entries: Vec<(Row, Standing)>,
    /// Where the next page starts (`before`), when there is one.
    pub next_before: Option<i64>,
    /// Why the days typed do not make a period (the locale key): a day that is not a date
    /// (that filter is left out), or a first day after the last.
    pub date_error: Option<&'static str>,
}

/// A JST day's start (or, with `end`, the next day's) as an instant; empty is none.
fn day(raw: &str, end: bool) -> Result<Option<DateTime<Utc>>, ()> {
    if raw.trim().is_empty() {
        return Ok(None);
    }
    // Days are JST days: 00:00 JST is 15:00 UTC the day before.
    let d = date(raw).map_err(|_| ())?;
    let d = if end { d.succ_opt().ok_or(())? } else { d };
    Ok(Some(
        d.and_hms_opt(0, 0, 0).ok_or(())?.and_utc() - chrono::Duration::hours(9),
    ))
}

/// One page of the trail within the actor's scope (Center admins and org admins). The typed
/// actor matches what the page shows in `words`' language as well as e-mails and names.
pub async fn trail(
    app: &App,
    actor: &Actor,
    q: &TrailParams,
    words: &Words<'_>,
) -> Result<TrailPage, Error> {
    if !actor.holds(&[Role::CenterAdmin, Role::OrgAdmin]) {
        return Err(Error::Forbidden);
    }
    let (from, to) = (day(&q.from, false), day(&q.to, true));
    let date_error = match (&from, &to) {
        (Err(()), _) | (_, Err(())) => Some("error.date_invalid"),
        (Ok(Some(a)), Ok(Some(b))) if a >= b => Some("error.date_range_reversed"),
        _ => None,
    };
    let typed = q.actor.trim().to_lowercase();
    let shows = |w: &str| !typed.is_empty() && w.to_lowercase().contains(&typed);
    // The Center narrows its trail to one organisation by a user code (one held by none:
    // nothing is found); an organisation's own trail is its own already.
    let about = match q.org.trim() {
        "" => None,
        _ if !actor.role.is_center() => None,
        typed => Some(
            match crate::domain::user_code::UserCode::parse(typed) {
                Ok(code) => db::orgs::holding_code(&app.db, code.as_str()).await?,
                Err(_) => None,
            }
            .unwrap_or(Uuid::nil()),
        ),
    };
    let filter = TrailFilter {
        about,
        action: Some(q.action.trim().to_string()).filter(|a| !a.is_empty()),
        actor_system: shows(words.system),
        actor_cli: shows(words.cli),
        actor_center: !actor.role.is_center() && shows(words.center),
        actor: Some(typed).filter(|a| !a.is_empty()),
        from: from.unwrap_or(None),
        to: to.unwrap_or(None),
        before_seq: q.before,
    };
    let mut rows = db::audit::page(&app.db, actor.scope().org_filter(), &filter, PAGE + 1).await?;
    let more = rows.len() as i64 > PAGE;
    let standing = db::audit::standing(&app.db, &rows).await?;
    rows.truncate(PAGE as usize);
    let entries: Vec<(Row, Standing)> = rows.into_iter().zip(standing).collect();
    Ok(TrailPage {
        next_before: entries.last().filter(|_| more).map(|(r, _)| r.seq),
        entries,
        date_error,
    })
}

/// The ids in a text (a target, a detail): each UUID written out in its usual form.
fn ids_in(s: &str) -> Vec<(usize, Uuid)> {
    let b = s.as_bytes();
    let mut out = vec![];
    let mut i = 0;
    while i + 36 <= b.len() {
        let w = &b[i..i + 36];
        let shaped = w.iter().enumerate().all(|(j, c)| match j {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        });
        if shaped && let Ok(id) = Uuid::parse_str(&s[i..i + 36]) {
            out.push((i, id));
            i += 36;
        } else {
            i += 1;
        }
    }
    out
}

/// An improvement instruction (改善措置の指示) or a request (提出依頼) as the trail names it:
/// its item in each language, its due date and its organisation.
#[derive(Debug, Clone)]
struct FollowUp {
    instruction: bool,
    item_ja: String,
    item_en: String,
    due: String,
    org: String,
}

/// The names of the ids the entries carry, as the viewer may see them.
#[derive(Debug, Clone, Default)]
pub struct Names {
    named: HashMap<Uuid, (String, String)>,
    followups: HashMap<Uuid, FollowUp>,
    /// A connection's form (`gateway`, …), by the connection's id.
    forms: HashMap<Uuid, String>,
    /// The catalogue, for items named by their keys.
    catalogue: Option<std::sync::Arc<crate::db::catalogue::Catalogue>>,
    /// The viewer is of an organisation: Center staff show as the Center, without their
    /// e-mail or IP.
    pub org_view: bool,
}

/// How the names show in a language.
pub struct Words<'a> {
    /// What Center staff are called for an organisation ("NACCS センター").
    pub center: &'a str,
    /// A submission without a receipt number yet.
    pub draft: &'a str,
    /// The page's language (`ja`, `en`): which title of an item.
    pub lang: &'a str,
    /// How an instruction reads, with `{item}` and `{org}` (its due date moves; the entry's detail says the one it had).
    pub instruction: &'a str,
    /// How a request reads, with `{item}` and `{org}`.
    pub request: &'a str,
    /// What the portal's own background work is called ("system" in the stored entry).
    pub system: &'a str,
    /// What the operator's shell commands are called ("cli" in the stored entry).
    pub cli: &'a str,
    /// How a connection reads, with `{place}` and `{form}`.
    pub connection: &'a str,
    /// The names of the connection forms, by their codes.
    pub forms: [(&'a str, &'a str); 3],
}

impl Words<'_> {
    fn followup(&self, f: &FollowUp) -> String {
        let item = if self.lang == "en" {
            &f.item_en
        } else {
            &f.item_ja
        };
        let form = if f.instruction {
            self.instruction
        } else {
            self.request
        };
        form.replace("{item}", item)
            .replace("{org}", &f.org)
            .replace("{due}", &f.due)
    }
}

impl Names {
    /// The text with every id replaced by what it names (an id the viewer may not see stays).
    pub fn text(&self, s: &str, w: &Words<'_>) -> String {
        let mut out = String::with_capacity(s.len());
        let mut at = 0;
        for (i, id) in ids_in(s) {
            if let Some(f) = self.followups.get(&id) {
                out.push_str(&s[at..i]);
                out.push_str(&w.followup(f));
                at = i + 36;
                continue;
            }
            let Some((name, kind)) = self.named.get(&id) else {
                continue;
            };
            out.push_str(&s[at..i]);
            match kind.as_str() {
                "center_user" if self.org_view => out.push_str(w.center),
                "submission" if name.is_empty() => out.push_str(w.draft),
                "connection" => {
                    let code = self.forms.get(&id).map_or("", String::as_str);
                    let form = w
                        .forms
                        .iter()
                        .find(|(c, _)| *c == code)
                        .map_or(code, |f| f.1);
                    out.push_str(
                        &w.connection
                            .replace("{place}", name)
                            .replace("{form}", form),
                    );
                }
                _ => out.push_str(name),
            }
            at = i + 36;
        }
        out.push_str(&s[at..]);
        out
    }

    /// The sealed submission a target names, when the whole target is its id (a draft has no
    /// page of its own to open).
    pub fn submission(&self, target: &str) -> Option<Uuid> {
        let id = Uuid::parse_str(target).ok()?;
        self.named
            .get(&id)
            .is_some_and(|(receipt, kind)| kind == "submission" && !receipt.is_empty())
            .then_some(id)
    }

    /// The title of a catalogue item by its key (`None`: not an item's key).
    pub fn item(&self, key: &str, lang: &str) -> Option<String> {
        let c = self.catalogue.as_ref()?;
        c.items
            .iter()
            .any(|i| i.key == key)
            .then(|| c.item_title(key, lang))
    }

    /// Who acted: the person's name, or the Center for an organisation's viewer.
    pub fn actor(&self, row: &Row, w: &Words<'_>) -> String {
        match row.actor_id.and_then(|id| self.named.get(&id)) {
            Some((_, kind)) if kind == "center_user" && self.org_view => w.center.to_string(),
            Some((name, _)) if !self.org_view => format!("{name} <{}>", row.actor),
            Some((name, _)) => name.clone(),
            None if self.org_view && row.actor_id.is_some() => w.center.to_string(),
            None if row.actor_id.is_none() && row.actor == "system" => w.system.to_string(),
            None if row.actor_id.is_none() && row.actor == "cli" => w.cli.to_string(),
            None => row.actor.clone(),
        }
    }

    /// The IP, unless the viewer is of an organisation and a Center person acted.
    pub fn ip(&self, row: &Row) -> String {
        let center = row
            .actor_id
            .and_then(|id| self.named.get(&id))
            .is_none_or(|(_, kind)| kind == "center_user");
        if self.org_view && center {
            String::new()
        } else {
            row.ip.clone()
        }
    }
}

/// The names of every id the rows carry (actor, target, detail), within the viewer's scope.
pub async fn names(app: &App, actor: &Actor, rows: &[Row]) -> Result<Names, Error> {
    let mut ids: Vec<Uuid> = vec![];
    for r in rows {
        ids.extend(r.actor_id);
        ids.extend(ids_in(&r.target).into_iter().map(|(_, id)| id));
        ids.extend(ids_in(&r.detail).into_iter().map(|(_, id)| id));
    }
    ids.sort();
    ids.dedup();
    let org = actor.scope().org_filter();
    let found = db::names::names(&app.db, &ids, org).await?;
    let catalogue = app.catalogue().await?;
    let mut names = Names {
        org_view: !actor.role.is_center(),
        catalogue: Some(catalogue.clone()),
        ..Names::default()
    };
    let c = &catalogue;
    for n in found {
        if n.kind == "connection" {
            names.forms.insert(n.id, n.extra.clone());
        }
        if matches!(n.kind.as_str(), "instruction" | "request") {
            let (key, due) = n.extra.split_once('|').unwrap_or((n.extra.as_str(), ""));
            names.followups.insert(
                n.id,
                FollowUp {
                    instruction: n.kind == "instruction",
                    item_ja: c.item_title(key, "ja"),
                    item_en: c.item_title(key, "en"),
                    due: due.to_string(),
                    org: n.name,
                },
            );
        } else {
            names.named.insert(n.id, (n.name, n.kind));
        }
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_in_a_text_are_found_and_named() {
        let a = Uuid::from_u128(1);
        let b = Uuid::from_u128(2);
        let text = format!(
            "{{\"submission\":\"{a}\",\"to\":\"{b}\",\"x\":\"{}\"}}",
            Uuid::from_u128(3)
        );
        assert_eq!(ids_in(&text).len(), 3);
        let mut names = Names::default();
        names
            .named
            .insert(a, ("SR-2026-000001".into(), "submission".into()));
        names
            .named
            .insert(b, ("審査 花子".into(), "center_user".into()));
        let w = Words {
            center: "NACCS センター",
            draft: "下書き",
            lang: "ja",
            instruction: "改善措置の指示（{item}、{org}）",
            request: "提出依頼（{item}、{org}）",
            system: "システム（自動処理）",
            cli: "管理コマンド",
            connection: "{place}の接続（{form}）",
            forms: [
                ("peer_to_peer", "ピアツーピア方式"),
                ("router", "ルータ方式"),
                ("gateway", "ゲートウェイ方式"),
            ],
        };
        let shown = names.text(&text, &w);
        assert!(shown.contains("SR-2026-000001") && shown.contains("審査 花子"));
        assert!(
            shown.contains(&Uuid::from_u128(3).to_string()),
            "an id not named stays"
        );
        names.org_view = true;
        let shown = names.text(&text, &w);
        assert!(shown.contains("NACCS センター") && !shown.contains("花子"));
        let conn = Uuid::from_u128(4);
        names
            .named
            .insert(conn, ("本社".into(), "connection".into()));
        names.forms.insert(conn, "gateway".into());
        assert_eq!(
            names.text(&conn.to_string(), &w),
            "本社の接続（ゲートウェイ方式）"
        );
    }
}
