//! Users (利用者のユーザー and Center staff): invite, disable or enable, change role, reset a
//! second factor. Center admins manage everyone; an org admin the members of their own
//! organisation.

use uuid::Uuid;

use super::{Actor, App, Error, FieldErrors, send_logged};
use crate::db::users::NewUser;
pub use crate::db::users::UserListRow;
use crate::db::{self, Tx, links::Purpose};
use crate::domain::{Email, Role};
use crate::mail::Outgoing;

/// The roles that manage users.
pub const MANAGERS: [Role; 2] = [Role::CenterAdmin, Role::OrgAdmin];

/// Roles a user of `role` may hand out.
pub fn grantable_roles(role: Role) -> Vec<Role> {
    match role {
        Role::CenterAdmin => Role::ALL.to_vec(),
        Role::OrgAdmin => vec![Role::OrgMember, Role::OrgAdmin],
        _ => vec![],
    }
}

/// A user's display name (empty when unknown), for mails that say who acted.
pub async fn name_of(app: &App, id: Uuid) -> Result<String, Error> {
    Ok(db::users::get(&app.db, crate::domain::Scope::Center, id)
        .await?
        .map(|u| u.display_name)
        .unwrap_or_default())
}

/// The users the actor manages (their organisation's, or everyone for a Center admin).
pub async fn list(app: &App, actor: &Actor) -> Result<Vec<UserListRow>, Error> {
    if !actor.holds(&MANAGERS) {
        return Err(Error::Forbidden);
    }
    Ok(db::users::list(&app.db, actor.scope(), None, None).await?)
}

/// One user as a manager sees them.
#[derive(Debug, Clone, serde::Serialize)]
pub struct UserDetail {
    pub user: UserListRow,
    /// Whether the user has a second factor (or is setting one up).
    pub second_factor: bool,
    /// Whether a second factor is required of them (by their organisation, or of Center staff
    /// by the portal's setting): one without it sets it up at the next sign-in.
    pub second_factor_required: bool,
    /// Whether they are their organisation's only active administrator: disabling them or
    /// changing their role leaves nobody there to invite and manage users.
    pub only_admin: bool,
}

/// One user within the actor's scope (another organisation's: not found).
pub async fn one(app: &App, actor: &Actor, id: Uuid) -> Result<UserDetail, Error> {
    if !actor.holds(&MANAGERS) {
        return Err(Error::Forbidden);
    }
    let user = db::users::list(&app.db, actor.scope(), None, Some(id))
        .await?
        .into_iter()
        .next()
        .ok_or(Error::NotFound)?;
    let second_factor = db::second_factor::totp(&app.db, id)
        .await?
        .is_some_and(|t| t.totp_secret.is_some())
        || db::passkeys::count(&app.db, id).await? > 0;
    let role = Role::parse(&user.role);
    let second_factor_required = second_factor_rule(app, user.org_id, role).await?;
    let only_admin = match user.org_id {
        Some(org) if role == Some(Role::OrgAdmin) && user.status == "active" => {
            db::users::active_org_admins(&app.db, org).await? == 1
        }
        _ => false,
    };
    Ok(UserDetail {
        user,
        second_factor,
        second_factor_required,
        only_admin,
    })
}

/// Whether an organisation within the actor's scope has no active administrator (an
/// invitation to it then offers that role first).
pub async fn without_admin(app: &App, actor: &Actor, org: Uuid) -> Result<bool, Error> {
    if !actor.holds(&MANAGERS) {
        return Err(Error::Forbidden);
    }
    super::structure::reads::in_scope(actor, org)?;
    Ok(db::users::active_org_admins(&app.db, org).await? == 0)
}

/// Whether a second factor is required of a user (of an organisation, or Center staff), one
/// already within the actor's scope: by their organisation, or of Center staff by the
/// portal's setting.
async fn second_factor_rule(
    app: &App,
    org_id: Option<Uuid>,
    role: Option<Role>,
) -> Result<bool, Error> {
    Ok(match org_id {
        Some(org) => {
            db::second_factor::org_requires(&app.db, crate::domain::Scope::Center, org).await?
        }
        None => app.config.center_second_factor && role.is_some_and(Role::is_center),
    })
}

/// Why an invitation could not be made.
pub(crate) enum InviteProblem {
    EmailTaken,
    Db(sqlx::Error),
}

impl From<sqlx::Error> for InviteProblem {
    fn from(e: sqlx::Error) -> Self {
        InviteProblem::Db(e)
    }
}

/// Creates an invited user with a 72-hour link and its audit entry, inside `tx`; answers the
/// new user's id and the link to mail once committed.
pub(crate) async fn invite_in_tx(
    tx: &mut Tx,
    app: &App,
    actor: &Actor,
    email: &Email,
    role: Role,
    org_id: Option<Uuid>,
) -> Result<(Uuid, String), InviteProblem> {
    let new = NewUser {
        org_id,
        email: email.as_str(),
        display_name: "",
        role,
        status: "invited",
        password_hash: None,
    };
    let id = match db::users::insert(tx, &new).await {
        Ok(id) => id,
        Err(e) if db::is_unique_violation(&e) => return Err(InviteProblem::EmailTaken),
        Err(e) => return Err(e.into()),
    };
    let token = super::links::issue_link(tx, Purpose::Invitation, Some(id)).await?;
    let mut entry = actor.audit("user.invited", org_id, email.to_string());
    entry.detail = serde_json::json!({ "role": role.as_str() });
    db::audit::append(tx, &entry).await?;
    Ok((
        id,
        app.config
            .link(&format!("/invitations/accept?token={token}")),
    ))
}

/// Mails an invitation link.
pub(crate) async fn mail_invitation(
    app: &App,
    actor: &Actor,
    to: &Email,
    role: Role,
    org: Option<(&str, &str)>,
    link: String,
) -> Result<(), Error> {
    let ja = crate::i18n::Tr::new(crate::i18n::Lang::Ja);
    let en = crate::i18n::Tr::new(crate::i18n::Lang::En);
    // The organisation (name and user code) in each language's way, or the Center.
    let org_in = |t: &crate::i18n::Tr| match org {
        Some((name, code)) => crate::i18n::org_label(name, code, t.code()),
        None => t.t("comments.center").to_string(),
    };
    // Each language's part of the mail names the role in its own language.
    let (role_ja, role_en) = (
        ja.t(role.label_key()).to_string(),
        en.t(role.label_key()).to_string(),
    );
    // Center staff inviting an organisation's people write as the Center: the company knows
    // the Center, not its staff by name.
    let name = name_of(app, actor.id).await?;
    let by = if actor.role.is_center() && org.is_some() {
        "mail.invitation.by_center"
    } else {
        "mail.invitation.by_person"
    };
    let inviter = |t: &crate::i18n::Tr| t.f(by, &[("name", &name)]);
    let out = Outgoing::new(
        to.to_string(),
        "mail.invitation",
        vec![
            ("inviter_ja", inviter(&ja)),
            ("inviter_en", inviter(&en)),
            ("role_ja", role_ja),
            ("role_en", role_en),
            ("org_ja", org_in(&ja)),
            ("org_en", org_in(&en)),
            ("link", link),
        ],
    );
    send_logged(app, out).await;
    Ok(())
}

/// What [`invite`] takes, as typed.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct InviteInput {
    pub email: String,
    /// A role the actor may hand out.
    pub role: String,
    /// The organisation, for an org role (an org admin always invites into their own).
    pub org: Option<Uuid>,
}

/// Invites a user (errors by field: `email`, `role`, `org_id`; an address in use is
/// `error.email_taken_invite`); the mail goes after commit. Answers the user's id, and whether an invitation never accepted
/// was sent again instead (its role and organisation as given now).
pub async fn invite(app: &App, actor: &Actor, input: &InviteInput) -> Result<(Uuid, bool), Error> {
    if !actor.holds(&MANAGERS) {
        return Err(Error::Forbidden);
    }
    let mut errors = FieldErrors::default();
    let email = errors.take("email", Email::parse(&input.email));
    let role = Role::parse(&input.role).filter(|r| grantable_roles(actor.role).contains(r));
    match role {
        None if input.role.is_empty() => errors.add("role", "error.role_required"),
        None => errors.add("role", "error.role_invalid"),
        // A Center role belongs to no organisation: one chosen says the role is a slip.
        Some(r) if r.is_center() && input.org.is_some() => {
            errors.add("role", "error.center_role_with_org");
        }
        Some(_) => {}
    }
    // An org admin always invites into their own organisation, whatever the input says.
    let org_id = match (actor.role, role) {
        (Role::OrgAdmin, _) => actor.org_id,
        (_, Some(r)) if r.is_org() => match input.org {
            Some(id) if db::orgs::get(&app.db, actor.scope(), id).await?.is_some() => Some(id),
            _ => {
                errors.add("org_id", "error.org_required");
                None
            }
        },
        _ => None,
    };
    let (Some(email), Some(role), true) = (email, role, errors.is_empty()) else {
        return Err(Error::Invalid(errors));
    };
    let org = invited_to(app, actor, org_id, role).await?;
    let mut tx = app.db.begin().await?;
    match invite_in_tx(&mut tx, app, actor, &email, role, org_id).await {
        Ok((id, link)) => {
            tx.commit().await?;
            mail_invitation(app, actor, &email, role, org.as_ref().map(pair), link).await?;
            Ok((id, false))
        }
        Err(InviteProblem::EmailTaken) => {
            drop(tx);
            // An invitation never accepted is sent again as this one says (a slip in its role
            // or organisation is put right so).
            if let Some(id) = reinvite(app, actor, &email, role, org_id).await? {
                return Ok((id, true));
            }
            // One the inviter can find in their list is pointed at 「招待メールを再送する」;
            // one of another organisation is not theirs to invite (nor to look for).
            let theirs = db::users::by_email(&app.db, email.as_str())
                .await?
                .is_some_and(|u| match actor.scope() {
                    crate::domain::Scope::Center => true,
                    crate::domain::Scope::Org(o) => u.org_id == Some(o),
                });
            Err(Error::field(
                "email",
                if theirs {
                    "error.email_taken_invite"
                } else {
                    "error.email_taken_elsewhere"
                },
            ))
        }
        Err(InviteProblem::Db(e)) => Err(e.into()),
    }
}

/// Invites again, as `role` of `org_id`, an address whose invitation was never accepted
/// (within the actor's scope): the earlier links stop working. `None`: not such an address.
async fn reinvite(
    app: &App,
    actor: &Actor,
    email: &Email,
    role: Role,
    org_id: Option<Uuid>,
) -> Result<Option<Uuid>, Error> {
    let org = invited_to(app, actor, org_id, role).await?;
    let mut tx = app.db.begin().await?;
    let Some(id) =
        db::users::reinvite(&mut tx, actor.scope(), email.as_str(), role, org_id).await?
    else {
        return Ok(None);
    };
    db::links::revoke_for_user(&mut tx, id, Purpose::Invitation).await?;
    let token = super::links::issue_link(&mut tx, Purpose::Invitation, Some(id)).await?;
    let mut entry = actor.audit("user.invited", org_id, email.to_string());
    entry.detail = serde_json::json!({ "role": role.as_str(), "again": true });
    db::audit::append(&mut tx, &entry).await?;
    tx.commit().await?;
    let link = app
        .config
        .link(&format!("/invitations/accept?token={token}"));
    mail_invitation(app, actor, email, role, org.as_ref().map(pair), link).await?;
    Ok(Some(id))
}

/// The organisation an invitation is to (its name and user code; `None`: the Center).
async fn invited_to(
    app: &App,
    actor: &Actor,
    org_id: Option<Uuid>,
    role: Role,
) -> Result<Option<(String, String)>, Error> {
    Ok(match org_id {
        Some(id) => {
            let org = db::orgs::get(&app.db, actor.scope(), id)
                .await?
                .ok_or(Error::NotFound)?;
            Some((org.name, org.user_code))
        }
        None if role.is_org() => return Err(Error::NotFound),
        None => None,
    })
}

/// An owned name and code as [`mail_invitation`] takes them.
fn pair(o: &(String, String)) -> (&str, &str) {
    (o.0.as_str(), o.1.as_str())
}

/// Sends a new invitation to a user who has not accepted theirs (expired or lost): the
/// earlier links stop working, and the new one is good for the usual 72 hours. A user who
/// has signed up already: conflict.
pub async fn resend_invitation(app: &App, actor: &Actor, id: Uuid) -> Result<(), Error> {
    if !actor.holds(&MANAGERS) {
        return Err(Error::Forbidden);
    }
    let target = target(app, actor, id).await?;
    let role = Role::parse(&target.role).ok_or(Error::NotFound)?;
    // Only a Center admin manages Center staff.
    if role.is_center() && actor.role != Role::CenterAdmin {
        return Err(Error::NotFound);
    }
    let email = Email::parse(&target.email).map_err(|_| Error::NotFound)?;
    let org = invited_to(app, actor, target.org_id, role).await?;
    let mut tx = app.db.begin().await?;
    // Still invited, checked under the transaction's write: one who accepted meanwhile keeps
    // their account as it is.
    if !db::users::still_invited(&mut tx, id).await? {
        return Err(Error::Conflict("users.invitation_accepted"));
    }
    db::links::revoke_for_user(&mut tx, id, Purpose::Invitation).await?;
    let token = super::links::issue_link(&mut tx, Purpose::Invitation, Some(id)).await?;
    let mut entry = actor.audit(
        "user.invitation_resent",
        target.org_id,
        target.email.clone(),
    );
    entry.detail = serde_json::json!({ "role": role.as_str() });
    db::audit::append(&mut tx, &entry).await?;
    tx.commit().await?;
    let link = app
        .config
        .link(&format!("/invitations/accept?token={token}"));
    mail_invitation(app, actor, &email, role, org.as_ref().map(pair), link).await
}

/// A manager sends a person of their scope a password-reset link (forgotten password); the
/// person sets a new one through it. Only an active account; only a Center admin does it for
/// Center staff. Audited as the manager's action.
pub async fn send_password_reset(app: &App, actor: &Actor, id: Uuid) -> Result<(), Error> {
    if !actor.holds(&MANAGERS) || id == actor.id {
        return Err(Error::Forbidden);
    }
    let target = target(app, actor, id).await?;
    let role = Role::parse(&target.role).ok_or(Error::NotFound)?;
    if role.is_center() && actor.role != Role::CenterAdmin {
        return Err(Error::NotFound);
    }
    if target.status != "active" {
        return Err(Error::Conflict("users.reset_not_active"));
    }
    let entry = actor.audit(
        "user.password_reset_sent",
        target.org_id,
        target.email.clone(),
    );
    super::onboarding::mail_reset_link(app, id, target.email, &entry).await
}

/// When the newest unused invitation of a user runs out (none: `None`).
pub async fn invitation_expires(
    app: &App,
    id: Uuid,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, Error> {
    Ok(db::links::open_until(&app.db, id, Purpose::Invitation).await?)
}

/// The target of a change: within the actor's scope, never the actor, and Center staff only
/// for a Center admin (otherwise not found).
async fn target(app: &App, actor: &Actor, id: Uuid) -> Result<db::users::UserRow, Error> {
    db::users::get(&app.db, actor.scope(), id)
        .await?
        .ok_or(Error::NotFound)
}

/// Whether a user may sign in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UserStatus {
    Active,
    Disabled,
}

impl UserStatus {
    /// From a form's value.
    pub fn parse(s: &str) -> Option<UserStatus> {
        match s {
            "active" => Some(UserStatus::Active),
            "disabled" => Some(UserStatus::Disabled),
            _ => None,
        }
    }
}

/// Disables a user (ending every session) or enables them again. Not oneself (forbidden);
/// one who never accepted the invitation cannot be enabled (conflict).
pub async fn set_status(
    app: &App,
    actor: &Actor,
    id: Uuid,
    status: Option<UserStatus>,
) -> Result<(), Error> {
    if !actor.holds(&MANAGERS) {
        return Err(Error::Forbidden);
    }
    let target = target(app, actor, id).await?;
    let (status, action) = match status {
        Some(UserStatus::Disabled) => ("disabled", "user.disabled"),
        Some(UserStatus::Active) => ("active", "user.enabled"),
        None => return Err(Error::field("status", "error.choose_one")),
    };
    if target.id == actor.id {
        return Err(Error::Forbidden);
    }
    // Only a Center admin manages Center staff.
    if Role::parse(&target.role).is_some_and(Role::is_center) && actor.role != Role::CenterAdmin {
        return Err(Error::NotFound);
    }
    if status == "active" && target.password_hash.is_none() {
        return Err(Error::Conflict("error.conflict.body"));
    }
    let mut tx = app.db.begin().await?;
    let changed = db::users::set_status(&mut tx, actor.scope(), id, status).await? == 1;
    if changed {
        if status == "disabled" {
            db::sessions::delete_for_user(&mut tx, id).await?;
        }
        db::audit::append(
            &mut tx,
            &actor.audit(action, target.org_id, target.email.clone()),
        )
        .await?;
    }
    tx.commit().await?;
    // The person hears of it (one who never set a password had no account to lose); enabled
    // again, they are told when a second factor waits to be set up at their next sign-in.
    let owes_second_factor = changed
        && status == "active"
        && second_factor_rule(app, target.org_id, Role::parse(&target.role)).await?
        && !db::second_factor::has_any(&app.db, id).await?;
    if changed && target.password_hash.is_some() {
        let by = if actor.role.is_center() {
            "users.changed_by_center"
        } else {
            "users.changed_by_org"
        };
        // A text of the locale key in a language; none for no key.
        let said = |key: &str, lang| match key {
            "" => String::new(),
            key => crate::i18n::Tr::new(lang).t(key).to_string(),
        };
        let owed = if owes_second_factor {
            "users.enabled_second_factor_mail"
        } else {
            ""
        };
        use crate::i18n::Lang::{En, Ja};
        let mail = Outgoing::new(
            target.email,
            if status == "disabled" {
                "mail.account_disabled"
            } else {
                "mail.account_enabled"
            },
            vec![
                ("time", crate::domain::dates::jst(&db::now())),
                ("by_ja", said(by, Ja)),
                ("by_en", said(by, En)),
                ("link", app.config.link("/login")),
                ("second_factor_ja", said(owed, Ja)),
                ("second_factor_en", said(owed, En)),
            ],
        );
        super::send_in_background(app, mail);
    }
    Ok(())
}

/// A Center admin removes a user's second factor (lost phone and recovery codes); the user
/// sets up a new one. Audited and mailed when there was one.
pub async fn reset_second_factor(app: &App, actor: &Actor, id: Uuid) -> Result<(), Error> {
    if !actor.holds(&[Role::CenterAdmin]) {
        return Err(Error::Forbidden);
    }
    let target = target(app, actor, id).await?;
    if target.id == actor.id {
        return Err(Error::Forbidden);
    }
    let mut tx = app.db.begin().await?;
    let had = db::second_factor::reset(&mut tx, id).await?;
    if had {
        db::audit::append(
            &mut tx,
            &actor.audit(
                "user.second_factor_reset",
                target.org_id,
                target.email.clone(),
            ),
        )
        .await?;
    }
    tx.commit().await?;
    if had {
        super::send_in_background(app, second_factor_reset_mail(&app.config, target.email));
    }
    Ok(())
}

/// The mail telling a user their second factor was reset (by a Center admin on the page, or
/// from the command line), with the link to set up a new one.
pub fn second_factor_reset_mail(config: &crate::Config, to: String) -> Outgoing {
    Outgoing::new(
        to,
        "mail.second_factor_reset",
        vec![
            ("time", crate::domain::dates::jst(&db::now())),
            ("link", config.link("/account/second-factor")),
        ],
    )
}

/// Changes a user's role: org roles stay org roles, Center roles stay Center roles, never
/// one's own, only to a role the actor may hand out (otherwise invalid, field `role`).
pub async fn set_role(app: &App, actor: &Actor, id: Uuid, role: &str) -> Result<(), Error> {
    if !actor.holds(&MANAGERS) {
        return Err(Error::Forbidden);
    }
    let target = target(app, actor, id).await?;
    let old = Role::parse(&target.role).ok_or(Error::NotFound)?;
    let new = Role::parse(role)
        .filter(|r| grantable_roles(actor.role).contains(r))
        .filter(|r| old.is_org() == r.is_org() && target.id != actor.id)
        .ok_or_else(|| Error::field("role", "error.role_invalid"))?;
    let mut tx = app.db.begin().await?;
    if db::users::set_role(&mut tx, actor.scope(), id, new).await? == 1 {
        let mut entry = actor.audit("user.role_changed", target.org_id, target.email.clone());
        entry.detail = serde_json::json!({ "from": old.as_str(), "to": new.as_str() });
        db::audit::append(&mut tx, &entry).await?;
    }
    tx.commit().await?;
    Ok(())
}
