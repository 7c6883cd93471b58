//! A user as lists show them (the users pages and an organisation's page).

use uuid::Uuid;

use crate::app;
use crate::domain::Role;
use crate::web::page::jst;

/// A user as the list shows them.
pub struct UserItem {
    pub id: Uuid,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub role_key: &'static str,
    pub org: String,
    pub status: String,
    pub status_key: &'static str,
    pub created: String,
    pub is_self: bool,
    /// The second factor in words (設定済み / 未設定), and whether one required is missing.
    pub second_factor_key: &'static str,
    pub second_factor_missing: bool,
}

fn status_key(s: &str) -> &'static str {
    match s {
        "active" => "status.active",
        "invited" => "status.invited",
        _ => "status.disabled",
    }
}

/// Maps a list row to its view, for the viewer `me`, in `lang` (a language code).
pub fn user_item(
    r: app::users::UserListRow,
    me: Uuid,
    lang: &str,
    center_requires_second_factor: bool,
) -> UserItem {
    let role = Role::parse(&r.role).unwrap_or(Role::OrgMember);
    let required = if role.is_center() {
        center_requires_second_factor
    } else {
        r.org_requires_second_factor
    };
    UserItem {
        second_factor_key: if r.second_factor {
            "users.second_factor_on"
        } else {
            "users.second_factor_off"
        },
        second_factor_missing: required && !r.second_factor && r.status != "disabled",
        id: r.id,
        name: r.display_name,
        email: r.email,
        role,
        role_key: role.label_key(),
        org: match (r.org_code, r.org_name) {
            (Some(code), Some(name)) => crate::i18n::org_label(&name, &code, lang),
            _ => String::new(),
        },
        status_key: status_key(&r.status),
        status: r.status,
        created: jst(&r.created_at),
        is_self: r.id == me,
    }
}
