//! The organisation (and location) a page is about, resolved in the signed-in user's scope
//! by the application layer; and the throttle on a secret re-entered by a signed-in user.

use uuid::Uuid;

use crate::app::orgs::OrgRow;
use crate::app::structure::reads::LocationRow;
use crate::app::{self, Actor};
use crate::web::ctx::CurrentUser;
use crate::web::error::AppResult;
use crate::web::state::AppState;

/// The user as the actor of a read (no address needed: reads are not audited here).
pub fn reader(me: &CurrentUser) -> Actor {
    Actor {
        id: me.id,
        email: me.email.clone(),
        role: me.role,
        org_id: me.org_id,
        ip: String::new(),
    }
}

/// The organisation within the user's scope (another organisation's id: 404); `write` also
/// requires an org admin of it or a Center admin (403).
pub async fn org_for(
    state: &AppState,
    me: &CurrentUser,
    org_id: Uuid,
    write: bool,
) -> AppResult<OrgRow> {
    Ok(app::structure::org_for(state, &reader(me), org_id, write).await?)
}

/// The organisation and one of its locations (404 for another organisation's).
pub async fn location_for(
    state: &AppState,
    me: &CurrentUser,
    org_id: Uuid,
    id: Uuid,
    write: bool,
) -> AppResult<(OrgRow, LocationRow)> {
    Ok(app::structure::location_for(state, &reader(me), org_id, id, write).await?)
}

/// The organisation a report is drafted for (a reviewer reads but never drafts: 403).
pub async fn org_for_report(state: &AppState, me: &CurrentUser, org_id: Uuid) -> AppResult<OrgRow> {
    Ok(app::submissions::reporting_org(state, &reader(me), org_id).await?)
}

/// For a signed-in user re-entering a secret (current password, app code): 429 once this
/// account has failed from this address as often as a sign-in may.
pub async fn refuse_if_throttled(state: &AppState, email: &str, ip: &str) -> AppResult<()> {
    if app::auth::throttled(state, email, ip).await? {
        return Err(crate::web::error::AppError::TooManyAttempts {
            wait_minutes: app::auth::WINDOW_MINUTES,
        });
    }
    Ok(())
}
