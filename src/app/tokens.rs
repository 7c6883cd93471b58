//! Personal access tokens (個人用アクセストークン): made by a user for scripts, shown once,
//! stored hashed; each acts as its owner within the owner's organisation and role and its
//! own scopes; revocable by the owner and by a Center admin; every use audited.

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::{Actor, App, Error, FieldErrors};
use crate::db;
pub use crate::db::tokens::TokenRow;
use crate::domain::{Role, TokenScope, TokenScopes};
use crate::security;

/// What a token's secret starts with, so a leaked one is recognisable (secret scanners).
pub const SECRET_PREFIX: &str = "spt_";
/// The expiries offered, in days; no token lives longer than a year.
pub const EXPIRY_DAYS: [i64; 4] = [30, 90, 180, 365];
/// Reads through a token are written to the audit trail at most once per token this often
/// (writes always): the trail's chain takes one entry at a time, and a script polling the
/// queue every few seconds would otherwise fill it with reads.
pub const READ_AUDIT_PERIOD: Duration = Duration::hours(1);
/// The rate limit's window.
pub const RATE_WINDOW: Duration = Duration::minutes(1);

/// What [`create`] takes (a page's form).
#[derive(Debug, Clone, Default)]
pub struct CreateInput {
    pub name: String,
    /// Days until it expires, as chosen.
    pub expires_days: String,
    /// Scope names as ticked.
    pub scopes: Vec<String>,
}

/// A token just made: the only time its secret is known.
#[derive(Debug, Clone)]
pub struct Created {
    pub id: Uuid,
    pub secret: String,
    pub expires_at: DateTime<Utc>,
}

/// Makes a token for the actor: a name, an expiry from [`EXPIRY_DAYS`], and scopes the
/// actor's role may hold.
pub async fn create(app: &App, actor: &Actor, input: CreateInput) -> Result<Created, Error> {
    create_in(&app.db, actor, input).await
}

/// [`create`] on a database alone (the command line makes tokens without a running portal).
pub async fn create_in(db: &db::Db, actor: &Actor, input: CreateInput) -> Result<Created, Error> {
    let mut errors = FieldErrors::default();
    let name = input.name.trim().to_string();
    if name.is_empty() {
        errors.add("name", "error.required");
    } else if name.chars().count() > 100 {
        errors.add("name", "error.too_long");
    }
    let days = input
        .expires_days
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|d| EXPIRY_DAYS.contains(d));
    if days.is_none() {
        errors.add("expires_days", "error.choose_one");
    }
    let allowed = TokenScope::allowed_for(actor.role);
    let mut scopes = Vec::new();
    for s in &input.scopes {
        match TokenScope::parse(s).filter(|s| allowed.contains(s)) {
            Some(s) => scopes.push(s),
            None => errors.add("scopes", "error.token_scope_not_allowed"),
        }
    }
    if scopes.is_empty() {
        errors.add("scopes", "error.token_scope_required");
    }
    let Some(days) = days.filter(|_| errors.is_empty()) else {
        return Err(Error::Invalid(errors));
    };
    let scopes = TokenScopes::from_iter(scopes);
    let secret = format!("{SECRET_PREFIX}{}", security::random_token());
    let id = Uuid::now_v7();
    let expires_at = db::now() + Duration::days(days);
    let token = db::tokens::NewToken {
        id,
        user_id: actor.id,
        org_id: actor.org_id,
        name: name.clone(),
        scopes: scopes.to_stored(),
        secret_hash: security::token_hash(&secret),
        prefix: secret.chars().take(SECRET_PREFIX.len() + 6).collect(),
        expires_at,
    };
    let mut tx = db.begin().await?;
    db::tokens::insert(&mut tx, &token).await?;
    let mut entry = actor.audit("api_token.created", actor.org_id, id.to_string());
    entry.detail = serde_json::json!({
        "name": name,
        "scopes": token.scopes,
        "prefix": token.prefix,
        "expires_at": expires_at,
    });
    db::audit::append(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(Created {
        id,
        secret,
        expires_at,
    })
}

/// The actor's own tokens.
pub async fn own(app: &App, actor: &Actor) -> Result<Vec<TokenRow>, Error> {
    Ok(db::tokens::of_user(&app.db, actor.id).await?)
}

/// Every token, for a Center admin.
pub async fn all(app: &App, actor: &Actor) -> Result<Vec<TokenRow>, Error> {
    if actor.role != Role::CenterAdmin {
        return Err(Error::Forbidden);
    }
    Ok(db::tokens::all(&app.db, 1000).await?)
}

/// Revokes one of the actor's own tokens, or (a Center admin) anyone's. A token already
/// revoked, or someone else's, is not found.
pub async fn revoke(app: &App, actor: &Actor, id: Uuid, as_admin: bool) -> Result<(), Error> {
    if as_admin && actor.role != Role::CenterAdmin {
        return Err(Error::Forbidden);
    }
    let owner = (!as_admin).then_some(actor.id);
    let mut tx = app.db.begin().await?;
    let (user, org) = db::tokens::revoke(&mut tx, id, owner, actor.id)
        .await?
        .ok_or(Error::NotFound)?;
    let mut entry = actor.audit("api_token.revoked", org, id.to_string());
    entry.detail = serde_json::json!({ "owner": user, "by_admin": as_admin });
    db::audit::append(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(())
}

/// A request's token, accepted: who acts and what it may do.
#[derive(Debug, Clone)]
pub struct Caller {
    pub token_id: Uuid,
    pub prefix: String,
    pub actor: Actor,
    /// The token's scopes within what the owner's role allows now.
    pub scopes: TokenScopes,
    read_audited_at: Option<DateTime<Utc>>,
}

impl Caller {
    /// Refuses (403) unless the token carries the scope.
    pub fn require(&self, scope: TokenScope) -> Result<(), Error> {
        if self.scopes.contains(scope) {
            Ok(())
        } else {
            Err(Error::Forbidden)
        }
    }
}

/// Why a token was not accepted.
#[derive(Debug)]
pub enum Refused {
    /// Unknown, expired, revoked, or its owner is disabled or moved (401).
    Unauthenticated,
    /// Over the rate limit: wait this many seconds (429).
    RateLimited(i64),
    Failed(Error),
}

impl From<sqlx::Error> for Refused {
    fn from(e: sqlx::Error) -> Self {
        Refused::Failed(e.into())
    }
}

/// Accepts a bearer secret: the token must be live and its owner active in the same
/// organisation; the request is counted against the token's rate limit.
pub async fn authenticate(app: &App, secret: &str, ip: &str) -> Result<Caller, Refused> {
    if !secret.starts_with(SECRET_PREFIX) || secret.len() > 200 {
        return Err(Refused::Unauthenticated);
    }
    let t = db::tokens::by_hash(&app.db, &security::token_hash(secret))
        .await?
        .ok_or(Refused::Unauthenticated)?;
    let role = Role::parse(&t.role).ok_or(Refused::Unauthenticated)?;
    if t.revoked_at.is_some()
        || t.expires_at <= db::now()
        || t.status != "active"
        || t.org_id != t.user_org_id
    {
        return Err(Refused::Unauthenticated);
    }
    let limit = i64::from(app.config.api_rate_per_minute);
    if let Some(wait) = db::tokens::count_use(&app.db, t.id, ip, limit, RATE_WINDOW).await? {
        return Err(Refused::RateLimited(wait));
    }
    Ok(Caller {
        token_id: t.id,
        prefix: t.prefix,
        scopes: TokenScopes::parse(&t.scopes).within(role),
        actor: Actor {
            id: t.user_id,
            email: t.email,
            role,
            org_id: t.user_org_id,
            ip: ip.to_string(),
        },
        read_audited_at: t.read_audited_at,
    })
}

/// Writes a read through the token to the audit trail unless one was written within
/// [`READ_AUDIT_PERIOD`] (one caller per period wins the conditional update).
pub async fn audit_read(app: &App, caller: &Caller, method: &str, path: &str) -> Result<(), Error> {
    let since = db::now() - READ_AUDIT_PERIOD;
    if caller.read_audited_at.is_some_and(|at| at > since) {
        return Ok(());
    }
    let mut tx = app.db.begin().await?;
    if !db::tokens::claim_read_audit(&mut tx, caller.token_id, since).await? {
        return Ok(());
    }
    db::audit::append(
        &mut tx,
        &use_entry(caller, "api_token.read", method, path, None),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The audit entry of one use of a token (`status`: the answer's, for writes).
pub fn use_entry(
    caller: &Caller,
    action: &'static str,
    method: &str,
    path: &str,
    status: Option<u16>,
) -> db::audit::Entry {
    let mut entry = caller
        .actor
        .audit(action, caller.actor.org_id, caller.token_id.to_string());
    entry.detail = serde_json::json!({
        "token": caller.prefix,
        "method": method,
        "path": path,
        "status": status,
    });
    entry
}
