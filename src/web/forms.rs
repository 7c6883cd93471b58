//! Form helpers; field errors live in `app` (use cases report them).

pub use crate::app::FieldErrors;

/// The form of a button that posts nothing but its CSRF token.
#[derive(serde::Deserialize)]
pub struct Nothing {}
