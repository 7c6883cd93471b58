//! Requests to submit (提出依頼): the Center asks an organisation for item 5 (in-house
//! measures) or item 6 (gateway logs, for a period and a site), with a window — uploads open
//! on a day (or at once) and are due on another.

use uuid::Uuid;

use super::super::notify::{Notice, To, notify};
use super::super::{Actor, App, Error, FieldErrors};
use super::{CENTER, REQUESTABLE, own_location};
use crate::db::{
    self,
    followup::{Keyed, NewRequest},
};
use crate::domain::dates::{date, due, long_text};
use crate::i18n::{Lang, Tr};

/// What [`issue_request`] takes; dates as typed.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct RequestInput {
    /// `inhouse_measures` or `gateway_logs`.
    pub item_key: String,
    /// The gateway site (item 6 only).
    pub location: Option<Uuid>,
    /// The period the logs cover (item 6 only), `YYYY-MM-DD`.
    pub period_from: String,
    pub period_to: String,
    /// The day uploads open (empty: at once).
    pub opens_on: String,
    /// `YYYY-MM-DD`, today or later.
    pub due_date: String,
    pub note: String,
    /// The form's key (see [`super::InstructionInput::key`]).
    pub key: Option<Uuid>,
}

/// The Center requests item 5 or item 6 of the organisation, with its audit entry and the
/// notice; answers the request's id.
pub async fn issue_request(
    app: &App,
    actor: &Actor,
    org_id: Uuid,
    input: &RequestInput,
) -> Result<Uuid, Error> {
    if !actor.holds(&CENTER) {
        return Err(Error::Forbidden);
    }
    super::super::orgs::visible(app, actor, org_id).await?;
    let catalogue = app.catalogue().await?;
    let location = own_location(app, org_id, input.location).await?;
    let mut errors = FieldErrors::default();
    if !REQUESTABLE.contains(&input.item_key.as_str()) {
        errors.add("item_key", "error.choose_one");
    }
    let logs = input.item_key == "gateway_logs";
    let period = if logs {
        let from = errors.take("period_from", date(&input.period_from));
        let to = errors.take("period_to", date(&input.period_to));
        match (from, to) {
            (Some(a), Some(b)) if b < a => {
                errors.add("period_to", "error.to_before_from");
                None
            }
            (Some(a), Some(b)) => Some((a, b)),
            _ => None,
        }
    } else {
        None
    };
    let due_date = errors.take("due_date", due(&input.due_date));
    // The window: uploads open on this day (none: at once) and close on the due date.
    let opens_on = if input.opens_on.trim().is_empty() {
        None
    } else {
        errors.take("opens_on", date(&input.opens_on))
    };
    if let (Some(o), Some(d)) = (opens_on, due_date)
        && o > d
    {
        errors.add("opens_on", "followup.error.opens_after_due");
    }
    let note = errors.take("note", long_text(&input.note, false));
    let (Some(due_date), Some(note), true) = (due_date, note, errors.is_empty()) else {
        return Err(Error::Invalid(errors));
    };
    let new = NewRequest {
        org_id,
        item_key: &input.item_key,
        location_id: if logs { location } else { None },
        period,
        opens_on,
        due_date,
        note: &note,
        by: actor.id,
    };
    let mut tx = app.db.begin().await?;
    let id = match db::followup::request(&mut tx, &new, input.key).await? {
        Some(id) => id,
        None => match super::pressed_again(&mut tx, Keyed::Request, org_id, input.key).await? {
            Some(id) => return Ok(id),
            None => db::followup::request(&mut tx, &new, None)
                .await?
                .ok_or(Error::Conflict("error.conflict.body"))?,
        },
    };
    let mut entry = actor.audit("request.issued", Some(org_id), id.to_string());
    entry.detail = serde_json::json!({ "item": input.item_key, "due": due_date, "opens": opens_on, "period": period });
    db::audit::append(&mut tx, &entry).await?;
    let period_text = period
        .map(|(a, b)| format!("{a} – {b}"))
        .unwrap_or_default();
    // Which gateway site the logs are asked of (a line of the mail), and where they go.
    let (site_ja, site_en, link) = match (logs, location) {
        (true, Some(l)) => {
            let name = db::structure::get(&app.db, org_id, l)
                .await?
                .map(|r| r.name)
                .unwrap_or_default();
            (
                mail_line(Lang::Ja, "followup.mail_site", &name),
                mail_line(Lang::En, "followup.mail_site", &name),
                format!("/orgs/{org_id}/locations/{l}/gateway-logs"),
            )
        }
        (true, None) => (
            mail_line(
                Lang::Ja,
                "followup.mail_site",
                Tr::new(Lang::Ja).t("followup.all_sites"),
            ),
            mail_line(
                Lang::En,
                "followup.mail_site",
                Tr::new(Lang::En).t("followup.all_sites"),
            ),
            format!("/orgs/{org_id}/followup"),
        ),
        _ => (
            String::new(),
            String::new(),
            format!("/orgs/{org_id}/followup"),
        ),
    };
    let mail = notify(
        &mut tx,
        &app.config.base_url,
        To::Org(org_id),
        &Notice {
            kind: "request",
            message: "mail.request_issued",
            args: vec![
                ("item_ja", catalogue.item_title(&input.item_key, "ja")),
                ("item_en", catalogue.item_title(&input.item_key, "en")),
                ("due", due_date.to_string()),
                ("site_ja", site_ja),
                ("site_en", site_en),
                // The period and the Center's note, each a line of its own when there is one.
                (
                    "period_ja",
                    mail_line(Lang::Ja, "followup.mail_period", &period_text),
                ),
                (
                    "period_en",
                    mail_line(Lang::En, "followup.mail_period", &period_text),
                ),
                ("note_ja", mail_line(Lang::Ja, "followup.mail_note", &note)),
                ("note_en", mail_line(Lang::En, "followup.mail_note", &note)),
            ],
            link,
        },
    )
    .await?;
    tx.commit().await?;
    mail.send(app);
    Ok(id)
}

/// The Center withdraws an open request; one answered or withdrawn meanwhile is a conflict.
pub async fn withdraw_request(
    app: &App,
    actor: &Actor,
    org_id: Uuid,
    id: Uuid,
    reason: &str,
) -> Result<(), Error> {
    if !actor.holds(&CENTER) {
        return Err(Error::Forbidden);
    }
    let reason =
        crate::domain::dates::long_text(reason, false).map_err(|k| Error::field("reason", k))?;
    super::super::orgs::visible(app, actor, org_id).await?;
    let mut tx = app.db.begin().await?;
    match db::followup::withdraw(&mut tx, org_id, id).await? {
        None => return Err(Error::NotFound),
        Some(false) => return Err(Error::Conflict("error.conflict.body")),
        Some(true) => {}
    }
    let mut entry = actor.audit("request.withdrawn", Some(org_id), id.to_string());
    if !reason.is_empty() {
        entry.detail = serde_json::json!({ "reason": reason });
    }
    db::audit::append(&mut tx, &entry).await?;
    // The organisation hears that nothing more is asked of it.
    let (item, place) = db::followup::request_item(&mut tx, org_id, id)
        .await?
        .unwrap_or_default();
    let catalogue = app.catalogue().await?;
    let place = place.unwrap_or_default();
    let mail = notify(
        &mut tx,
        &app.config.base_url,
        To::Org(org_id),
        &Notice {
            kind: "request",
            message: "mail.request_withdrawn",
            args: vec![
                ("item_ja", catalogue.item_title(&item, "ja")),
                ("item_en", catalogue.item_title(&item, "en")),
                ("site_ja", mail_line(Lang::Ja, "followup.mail_site", &place)),
                ("site_en", mail_line(Lang::En, "followup.mail_site", &place)),
                (
                    "reason_ja",
                    mail_line(Lang::Ja, "followup.mail_withdraw_reason", &reason),
                ),
                (
                    "reason_en",
                    mail_line(Lang::En, "followup.mail_withdraw_reason", &reason),
                ),
            ],
            link: format!("/orgs/{org_id}/followup#requests"),
        },
    )
    .await?;
    tx.commit().await?;
    mail.send(app);
    Ok(())
}

/// A line of a mail's body, "\n" and the key's text with `{value}`, or nothing for an empty
/// value.
fn mail_line(lang: Lang, key: &str, value: &str) -> String {
    if value.trim().is_empty() {
        String::new()
    } else {
        format!("\n{}", Tr::new(lang).f(key, &[("value", value)]))
    }
}
