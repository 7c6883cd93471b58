//! Validated types and rules, no I/O.

pub mod antivirus;
pub mod catalogue;
pub mod checklist;
pub mod dates;
pub mod email;
pub mod equipment;
pub mod export;
pub mod flags;
pub mod gatewaylog;
pub mod holidays;
pub mod input;
pub mod password;
pub mod retention;
pub mod role;
pub mod scope;
pub mod sheet;
pub mod text;
pub mod token_scope;
pub mod totp;
pub mod user_code;
pub mod webauthn;
pub mod workbook;

pub use catalogue::{CatalogueItem, ConnectionForm, ScopeKind, Trigger};
pub use email::Email;
pub use password::{NewPassword, PasswordProblem};
pub use role::Role;
pub use scope::Scope;
pub use token_scope::{TokenScope, TokenScopes};
pub use user_code::{NaccsId, UserCode};

/// Why a form field was refused: a locale key for the message.
pub type FieldError = &'static str;
