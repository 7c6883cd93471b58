//! One-time links (first-run setup, invitations, password resets): only their hash is kept.

use chrono::Duration;
use uuid::Uuid;

pub use crate::db::links::Purpose;
use crate::db::{self, Tx};
use crate::security;

/// How long each kind of link stays valid.
pub fn ttl(purpose: Purpose) -> Duration {
    match purpose {
        Purpose::Setup | Purpose::PasswordReset => Duration::hours(1),
        Purpose::Invitation => Duration::hours(72),
    }
}

/// Creates a one-time link in the transaction; answers the secret token for the URL.
pub async fn issue_link(
    tx: &mut Tx,
    purpose: Purpose,
    user_id: Option<Uuid>,
) -> Result<String, sqlx::Error> {
    let token = security::random_token();
    db::links::insert(
        tx,
        &security::token_hash(&token),
        purpose,
        user_id,
        db::now() + ttl(purpose),
    )
    .await?;
    Ok(token)
}
