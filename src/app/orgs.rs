//! Organisations (利用者) as a use case sees them: one within the actor's scope.

use uuid::Uuid;

use super::{Actor, App, Error};
use crate::db;
pub use crate::db::orgs::OrgRow;
use crate::domain::Role;

/// The organisation within the actor's scope (another organisation's id: not found).
pub async fn visible(app: &App, actor: &Actor, org_id: Uuid) -> Result<OrgRow, Error> {
    db::orgs::get(&app.db, actor.scope(), org_id)
        .await?
        .ok_or(Error::NotFound)
}

/// The organisation, for a report of it: its own users and Center admins; reviewers read
/// reports but never write them.
pub async fn for_report(app: &App, actor: &Actor, org_id: Uuid) -> Result<OrgRow, Error> {
    let org = visible(app, actor, org_id).await?;
    if actor.role == Role::Reviewer {
        return Err(Error::Forbidden);
    }
    Ok(org)
}

impl OrgRow {
    /// Whether a search (already [`crate::domain::input::folded`]) finds the organisation: in
    /// its name, its name in katakana, or any of its user codes.
    pub fn found_by(&self, wanted: &str) -> bool {
        let mut texts: Vec<&str> = vec![&self.name, &self.name_kana, &self.user_code];
        texts.extend(self.other_codes.iter().map(String::as_str));
        crate::domain::input::found_in(wanted, &texts)
    }

    /// What sorts organisations by name in 五十音順: the name's reading (katakana) where the
    /// organisation gave it, else the name, folded as a search is. One not named yet (its name
    /// is still its user code) sorts after every named one.
    pub fn name_order(&self) -> String {
        let unnamed = self.name_kana.trim().is_empty() && self.name == self.user_code;
        let reading = if self.name_kana.trim().is_empty() {
            &self.name
        } else {
            &self.name_kana
        };
        let folded = crate::domain::input::folded(reading);
        if unnamed {
            format!("\u{10FFFF}{folded}")
        } else {
            folded
        }
    }
}

/// The roles that see organisations.
pub const CENTER: [Role; 2] = [Role::CenterAdmin, Role::Reviewer];

/// Every organisation, by user code (Center staff).
pub async fn list(app: &App, actor: &Actor) -> Result<Vec<OrgRow>, Error> {
    if !actor.holds(&CENTER) {
        return Err(Error::Forbidden);
    }
    Ok(db::orgs::list(&app.db, actor.scope()).await?)
}

/// The organisation holding a user code as typed (full-width or lower case too), for Center
/// staff: `Ok(None)` when none does, a field error when it is not a user code.
pub async fn by_code(app: &App, actor: &Actor, raw: &str) -> Result<Option<Uuid>, Error> {
    if !actor.holds(&CENTER) {
        return Err(Error::Forbidden);
    }
    let code =
        crate::domain::user_code::UserCode::parse(raw).map_err(|k| Error::field("code", k))?;
    Ok(db::orgs::holding_code(&app.db, code.as_str()).await?)
}

/// An organisation as the Center sees it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct OrgDetail {
    pub org: OrgRow,
    pub users: Vec<db::users::UserListRow>,
    /// Whether it requires a second factor of its users.
    pub second_factor_required: bool,
}

/// One organisation with its users (Center staff).
pub async fn one(app: &App, actor: &Actor, id: Uuid) -> Result<OrgDetail, Error> {
    if !actor.holds(&CENTER) {
        return Err(Error::Forbidden);
    }
    let org = visible(app, actor, id).await?;
    Ok(OrgDetail {
        users: db::users::list(&app.db, actor.scope(), Some(id), None).await?,
        second_factor_required: db::second_factor::org_requires(&app.db, actor.scope(), id).await?,
        org,
    })
}

/// What [`create`] takes, as typed.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct NewOrgInput {
    pub name: String,
    /// Its reading (フリガナ), optional: lists sort by it.
    pub name_kana: String,
    pub user_code: String,
    /// The first org admin, invited with it.
    pub admin_email: String,
}

/// Checks an organisation name: 1 to 200 characters, no control characters.
fn org_name(raw: &str) -> Result<String, &'static str> {
    let s = raw.trim();
    if s.is_empty() {
        Err("error.org_name_required")
    } else if s.chars().count() > 200 || s.chars().any(char::is_control) {
        Err("error.org_name_invalid")
    } else {
        Ok(s.to_string())
    }
}

/// A Center admin creates an organisation and invites its first org admin, together: a
/// taken user code or address leaves nothing behind (errors by field: `name`, `user_code`,
/// `admin_email`). Answers the organisation's id.
pub async fn create(app: &App, actor: &Actor, input: &NewOrgInput) -> Result<Uuid, Error> {
    use super::users::{InviteProblem, invite_in_tx, mail_invitation};
    if !actor.holds(&[Role::CenterAdmin]) {
        return Err(Error::Forbidden);
    }
    let mut errors = super::FieldErrors::default();
    let name = errors.take("name", org_name(&input.name));
    let code = errors.take(
        "user_code",
        crate::domain::UserCode::parse(&input.user_code),
    );
    let email = errors.take(
        "admin_email",
        crate::domain::Email::parse(&input.admin_email),
    );
    let kana = errors.take(
        "name_kana",
        crate::domain::input::kana(&input.name_kana, 200, false)
            .and_then(|k| crate::domain::input::line(&k, 200, false)),
    );
    let (Some(name), Some(code), Some(email), Some(kana)) = (name, code, email, kana) else {
        return Err(Error::Invalid(errors));
    };
    let mut tx = app.db.begin().await?;
    let org_id = match db::orgs::insert(&mut tx, &name, code.as_str()).await {
        Ok(id) => id,
        Err(e) if db::is_unique_violation(&e) => {
            return Err(Error::field("user_code", "error.user_code_taken"));
        }
        Err(e) => return Err(e.into()),
    };
    if !kana.is_empty() {
        db::orgs::set_name_kana(&mut tx, org_id, &kana).await?;
    }
    let mut entry = actor.audit(
        "organisation.created",
        Some(org_id),
        code.as_str().to_string(),
    );
    entry.detail = serde_json::json!({ "name": name, "name_kana": kana });
    db::audit::append(&mut tx, &entry).await?;
    // Dropping the transaction on an error rolls back the organisation too.
    match invite_in_tx(&mut tx, app, actor, &email, Role::OrgAdmin, Some(org_id)).await {
        Ok((_, link)) => {
            tx.commit().await?;
            let org = Some((name.as_str(), code.as_str()));
            mail_invitation(app, actor, &email, Role::OrgAdmin, org, link).await?;
            Ok(org_id)
        }
        Err(InviteProblem::EmailTaken) => Err(Error::field("admin_email", "error.email_taken")),
        Err(InviteProblem::Db(e)) => Err(e.into()),
    }
}

/// A Center admin requires (or stops requiring) a second factor of the organisation's
/// users; those without one set it up at their next request.
pub async fn set_second_factor(
    app: &App,
    actor: &Actor,
    id: Uuid,
    required: Option<bool>,
) -> Result<(), Error> {
    if !actor.holds(&[Role::CenterAdmin]) {
        return Err(Error::Forbidden);
    }
    let required = required.ok_or_else(|| Error::field("required", "error.choose_one"))?;
    let org = visible(app, actor, id).await?;
    let mut tx = app.db.begin().await?;
    // Set already (a second click, another admin): nothing to record or tell.
    if !db::second_factor::set_org_requires(&mut tx, id, required).await? {
        return Ok(());
    }
    let mut e = actor.audit(
        "org.second_factor_requirement",
        Some(id),
        org.user_code.clone(),
    );
    e.detail = serde_json::json!({ "required": required });
    db::audit::append(&mut tx, &e).await?;
    // Those it now asks to set one up hear of it before their next sign-in.
    let to = if required {
        db::second_factor::without_any(&mut tx, id).await?
    } else {
        vec![]
    };
    tx.commit().await?;
    for email in to {
        let mail = crate::mail::Outgoing::new(
            email,
            "mail.second_factor_required",
            vec![
                (
                    "org_ja",
                    crate::i18n::org_label(&org.name, &org.user_code, "ja"),
                ),
                (
                    "org_en",
                    crate::i18n::org_label(&org.name, &org.user_code, "en"),
                ),
                ("link", app.config.link("/account/second-factor")),
            ],
        );
        super::send_in_background(app, mail);
    }
    Ok(())
}
