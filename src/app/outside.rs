//! §7.4.2(2) — connections to outside networks without the NACCS router (外部接続申請). Every
//! LAN or remote connection goes to the Center's review as an application with a diagram; a
//! remote connection by modem or TA is refused at validation with the rule's wording.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::submissions::{Place, ReportKind, Sealed, reporting_org, save_data};
use super::{Actor, App, Error, FieldErrors};
use crate::db;
use crate::db::submissions::SubmissionRow;
use crate::domain::Scope;

const KIND: ReportKind = ReportKind::OutsideConnections;

/// The most connections one application holds.
pub const MAX_CONNECTIONS: usize = 10;

/// One connection to an outside network, as typed; the form numbers it from 0
/// (`c{n}_{field}`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Connection {
    /// What the organisation calls it (「取引先A社との VPN 接続」).
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub connection_type: String,
    #[serde(default)]
    pub method: String,
    #[serde(default)]
    pub method_other: String,
    #[serde(default)]
    pub computers: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub outside_measures: String,
}

impl Connection {
    /// Whether nothing was typed or chosen.
    pub fn is_blank(&self) -> bool {
        [
            &self.name,
            &self.connection_type,
            &self.method,
            &self.method_other,
            &self.computers,
            &self.description,
            &self.outside_measures,
        ]
        .iter()
        .all(|s| s.trim().is_empty())
    }

    /// Row `n` of a posted form (`c{n}_{field}`), as typed.
    pub fn posted(fields: &HashMap<String, String>, n: usize) -> Connection {
        let get = |f: &str| fields.get(&field(n, f)).cloned().unwrap_or_default();
        Connection {
            name: get("name"),
            connection_type: get("connection_type"),
            method: get("method"),
            method_other: get("method_other"),
            computers: get("computers"),
            description: get("description"),
            outside_measures: get("outside_measures"),
        }
    }
}

/// The name of field `f` of connection `n`, in the form and in its errors.
pub fn field(n: usize, f: &str) -> String {
    format!("c{n}_{f}")
}

/// The application: every outside connection of the organisation, each with its kind, method
/// and measures (the diagrams are its files).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "Stored")]
pub struct Application {
    pub connections: Vec<Connection>,
}

/// An application as stored: a list of connections, or (as stored before an application held
/// several) one connection's fields at the top.
#[derive(Deserialize)]
struct Stored {
    #[serde(default)]
    connections: Option<Vec<Connection>>,
    #[serde(flatten)]
    single: Connection,
}

impl From<Stored> for Application {
    fn from(s: Stored) -> Application {
        let connections = match s.connections {
            Some(list) => list,
            None if s.single.is_blank() => vec![],
            None => vec![s.single],
        };
        Application { connections }
    }
}

impl Application {
    /// The connections of a posted form (`c{n}_{field}`, n below [`MAX_CONNECTIONS`]), blank
    /// rows and rows marked to leave out (`c{n}_remove`, a connection given up) left out, so
    /// that the stored list and its errors number the rows alike.
    pub fn posted(fields: &HashMap<String, String>) -> Application {
        Application {
            connections: (0..MAX_CONNECTIONS)
                .filter(|n| fields.get(&field(*n, "remove")).is_none_or(|v| v != "yes"))
                .map(|n| Connection::posted(fields, n))
                .filter(|c| !c.is_blank())
                .collect(),
        }
    }

    /// An application as a report's data stores it (either shape).
    pub fn of(data: &serde_json::Value) -> Application {
        Application::deserialize(data).unwrap_or_default()
    }
}

/// The methods each connection type allows (Table 7-4-3 and the examples of §7.4.2(2)).
pub fn methods(connection_type: &str) -> &'static [&'static str] {
    match connection_type {
        "lan" => &["proxy", "nat", "other"],
        "remote" => &["vpn", "modem_ta", "other"],
        _ => &[],
    }
}

/// Checks an application; the errors name the fields of each connection (`c{n}_{field}`), and
/// an application without any connection is checked as one left blank.
pub fn validate(a: &Application) -> FieldErrors {
    let mut e = FieldErrors::default();
    if a.connections.len() > MAX_CONNECTIONS {
        e.add("_form", "error.too_many_connections");
        return e;
    }
    let blank = [Connection::default()];
    let list = if a.connections.is_empty() {
        &blank[..]
    } else {
        &a.connections[..]
    };
    for (n, c) in list.iter().enumerate() {
        validate_one(&mut e, n, c);
    }
    e
}

/// Checks connection `n`.
fn validate_one(e: &mut FieldErrors, n: usize, a: &Connection) {
    let name = |f: &str| field(n, f);
    if a.name.trim().is_empty() {
        e.add(name("name"), "error.required");
    } else if a.name.chars().count() > 100 {
        e.add(name("name"), "error.too_long");
    }
    if !matches!(a.connection_type.as_str(), "lan" | "remote") {
        e.add(name("connection_type"), "error.choose_one");
    } else if !methods(&a.connection_type).contains(&a.method.as_str()) {
        // A method of the other connection type (VPN with LAN, PROXY with remote) is a
        // mix-up to name, not a missing choice.
        e.add(
            name("method"),
            match a.connection_type.as_str() {
                "lan" if methods("remote").contains(&a.method.as_str()) => {
                    "error.method_not_for_lan"
                }
                "remote" if methods("lan").contains(&a.method.as_str()) => {
                    "error.method_not_for_remote"
                }
                _ => "error.choose_one",
            },
        );
    } else if a.connection_type == "remote" && a.method == "modem_ta" {
        e.add(name("method"), "error.modem_ta_prohibited");
    }
    if a.method == "other" && a.method_other.trim().is_empty() {
        e.add(name("method_other"), "error.required");
    }
    if !matches!(a.computers.as_str(), "naccs" | "other") {
        e.add(name("computers"), "error.choose_one");
    }
    let len_ok = |s: &str, max: usize| s.chars().count() <= max;
    if a.description.trim().is_empty() {
        e.add(name("description"), "error.required");
    } else if !len_ok(&a.description, 4000) {
        e.add(name("description"), "error.too_long");
    }
    if a.connection_type == "remote" && a.outside_measures.trim().is_empty() {
        e.add(name("outside_measures"), "error.outside_measures_required");
    } else if !len_ok(&a.outside_measures, 4000) {
        e.add(name("outside_measures"), "error.too_long");
    }
    if !len_ok(&a.method_other, 200) {
        e.add(name("method_other"), "error.too_long");
    }
}

/// Saves the application as the draft (opening it if needed), with its audit entry.
pub async fn save(
    app: &App,
    actor: &Actor,
    org: Uuid,
    application: &Application,
) -> Result<Uuid, Error> {
    reporting_org(app, actor, org).await?;
    let data = serde_json::to_value(application).map_err(anyhow::Error::from)?;
    save_data(
        app,
        actor,
        &Place::org(org, KIND),
        &data,
        "submission.draft_saved",
        serde_json::Value::Null,
    )
    .await
}

/// Checks a draft as stored before it is sealed: the application checked by [`validate`]
/// and at least one diagram (`_form`: `error.diagram_required`).
pub async fn check(
    app: &App,
    org: Uuid,
    draft: &SubmissionRow,
) -> Result<serde_json::Value, Error> {
    let stored: Application = serde_json::from_str(&draft.data).unwrap_or_default();
    let mut errors = validate(&stored);
    if db::submissions::files(&app.db, Scope::Org(org), draft.id)
        .await?
        .is_empty()
    {
        errors.add("_form", "error.diagram_required");
    }
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    Ok(serde_json::Value::Null)
}

/// Submits the open draft as stored, checked by [`check`]. With no draft open it answers the
/// latest receipt (a repeated submit) or `submission.need_files`.
pub async fn submit(app: &App, actor: &Actor, org: Uuid) -> Result<Sealed, Error> {
    super::submissions::confirm::submit_as_stored(app, actor, &Place::org(org, KIND)).await
}

/// The page's 提出: what was typed is kept as the draft, then the draft is checked for the
/// confirmation step.
pub async fn save_and_check(
    app: &App,
    actor: &Actor,
    org: Uuid,
    application: &Application,
) -> Result<Uuid, Error> {
    save(app, actor, org, application).await?;
    super::submissions::confirm::prepare(app, actor, &Place::org(org, KIND)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(t: &str, m: &str) -> Application {
        Application {
            connections: vec![Connection {
                name: "取引先との接続".into(),
                connection_type: t.into(),
                method: m.into(),
                computers: "naccs".into(),
                description: "本社LANと取引先をVPNで接続".into(),
                outside_measures: "ウイルス対策ソフト、OS更新".into(),
                ..Connection::default()
            }],
        }
    }

    #[test]
    fn a_remote_connection_by_modem_or_ta_is_refused() {
        assert_eq!(
            validate(&app("remote", "modem_ta")).get("c0_method"),
            Some("error.modem_ta_prohibited")
        );
        assert!(validate(&app("remote", "vpn")).is_empty());
        assert!(validate(&app("lan", "proxy")).is_empty());
        assert_eq!(
            validate(&app("lan", "vpn")).get("c0_method"),
            Some("error.method_not_for_lan")
        );
        assert_eq!(
            validate(&app("remote", "proxy")).get("c0_method"),
            Some("error.method_not_for_remote")
        );
        assert_eq!(
            validate(&app("lan", "")).get("c0_method"),
            Some("error.choose_one")
        );
    }

    #[test]
    fn remote_connections_need_the_outside_measures() {
        let mut a = app("remote", "vpn");
        a.connections[0].outside_measures = " ".into();
        assert_eq!(
            validate(&a).get("c0_outside_measures"),
            Some("error.outside_measures_required")
        );
    }

    #[test]
    fn each_connection_is_checked_under_its_own_number() {
        let mut a = app("lan", "proxy");
        let mut second = app("remote", "modem_ta").connections.remove(0);
        second.name = String::new();
        a.connections.push(second);
        let e = validate(&a);
        assert_eq!(e.get("c0_method"), None);
        assert_eq!(e.get("c1_method"), Some("error.modem_ta_prohibited"));
        assert_eq!(e.get("c1_name"), Some("error.required"));
        // No connection at all is checked as one left blank.
        let e = validate(&Application::default());
        assert_eq!(e.get("c0_name"), Some("error.required"));
        assert_eq!(e.get("c0_connection_type"), Some("error.choose_one"));
        let many = Application {
            connections: vec![a.connections[0].clone(); MAX_CONNECTIONS + 1],
        };
        assert_eq!(
            validate(&many).get("_form"),
            Some("error.too_many_connections")
        );
    }

    #[test]
    fn a_posted_form_leaves_blank_rows_out_and_an_earlier_single_application_reads_as_one() {
        let fields: HashMap<String, String> = [
            ("c0_name", "本社 PROXY"),
            ("c0_connection_type", "lan"),
            ("c1_name", " "),
            ("c2_name", "倉庫 VPN"),
            ("c2_method", "vpn"),
            ("c3_name", "廃止した接続"),
            ("c3_remove", "yes"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let a = Application::posted(&fields);
        assert_eq!(a.connections.len(), 2);
        assert_eq!(a.connections[1].name, "倉庫 VPN");
        let stored = serde_json::to_value(&a).unwrap();
        assert_eq!(Application::of(&stored), a);
        // Stored before an application listed its connections.
        let earlier = serde_json::json!({"connection_type": "remote", "method": "vpn",
            "computers": "naccs", "description": "在宅", "outside_measures": "対策"});
        let read = Application::of(&earlier);
        assert_eq!(read.connections.len(), 1);
        assert_eq!(read.connections[0].method, "vpn");
        assert!(
            Application::of(&serde_json::json!({}))
                .connections
                .is_empty()
        );
    }
}
