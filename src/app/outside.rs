//! §7.4.2(2) — connections to outside networks without the NACCS router (外部接続申請). Every
//! LAN or remote connection goes to the Center's review as an application with a diagram; a
//! remote connection by modem or TA is refused at validation with the rule's wording.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::submissions::{Place, ReportKind, Sealed, reporting_org, save_data};
use super::{Actor, App, Error, FieldErrors};
use crate::db;
use crate::db::submissions::SubmissionRow;
use crate::domain::Scope;

const KIND: ReportKind = ReportKind::OutsideConnections;

/// The application's fields.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Application {
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

/// The methods each connection type allows (Table 7-4-3 and the examples of §7.4.2(2)).
pub fn methods(connection_type: &str) -> &'static [&'static str] {
    match connection_type {
        "lan" => &["proxy", "nat", "other"],
        "remote" => &["vpn", "modem_ta", "other"],
        _ => &[],
    }
}

/// Checks an application; the errors name fields.
pub fn validate(a: &Application) -> FieldErrors {
    let mut e = FieldErrors::default();
    if !matches!(a.connection_type.as_str(), "lan" | "remote") {
        e.add("connection_type", "error.choose_one");
    } else if !methods(&a.connection_type).contains(&a.method.as_str()) {
        // A method of the other connection type (VPN with LAN, PROXY with remote) is a
        // mix-up to name, not a missing choice.
        e.add(
            "method",
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
        e.add("method", "error.modem_ta_prohibited");
    }
    if a.method == "other" && a.method_other.trim().is_empty() {
        e.add("method_other", "error.required");
    }
    if !matches!(a.computers.as_str(), "naccs" | "other") {
        e.add("computers", "error.choose_one");
    }
    let len_ok = |s: &str, max: usize| s.chars().count() <= max;
    if a.description.trim().is_empty() {
        e.add("description", "error.required");
    } else if !len_ok(&a.description, 4000) {
        e.add("description", "error.too_long");
    }
    if a.connection_type == "remote" && a.outside_measures.trim().is_empty() {
        e.add("outside_measures", "error.outside_measures_required");
    } else if !len_ok(&a.outside_measures, 4000) {
        e.add("outside_measures", "error.too_long");
    }
    if !len_ok(&a.method_other, 200) {
        e.add("method_other", "error.too_long");
    }
    e
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
            connection_type: t.into(),
            method: m.into(),
            computers: "naccs".into(),
            description: "本社LANと取引先をVPNで接続".into(),
            outside_measures: "ウイルス対策ソフト、OS更新".into(),
            ..Application::default()
        }
    }

    #[test]
    fn a_remote_connection_by_modem_or_ta_is_refused() {
        assert_eq!(
            validate(&app("remote", "modem_ta")).get("method"),
            Some("error.modem_ta_prohibited")
        );
        assert!(validate(&app("remote", "vpn")).is_empty());
        assert!(validate(&app("lan", "proxy")).is_empty());
        assert_eq!(
            validate(&app("lan", "vpn")).get("method"),
            Some("error.method_not_for_lan")
        );
        assert_eq!(
            validate(&app("remote", "proxy")).get("method"),
            Some("error.method_not_for_remote")
        );
        assert_eq!(
            validate(&app("lan", "")).get("method"),
            Some("error.choose_one")
        );
    }

    #[test]
    fn remote_connections_need_the_outside_measures() {
        let mut a = app("remote", "vpn");
        a.outside_measures = " ".into();
        assert_eq!(
            validate(&a).get("outside_measures"),
            Some("error.outside_measures_required")
        );
    }
}
