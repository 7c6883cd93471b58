//! The page that asks for a link by mail for an address (a forgotten password, a locked
//! sign-in): the address, then the same answer whether or not it is known.

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;

use crate::app;
use crate::web::ctx::Ctx;
use crate::web::error::{AppError, AppResult};
use crate::web::forms::FieldErrors;
use crate::web::page::{Page, render};

/// Which link is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asking {
    PasswordReset,
    Unlock,
}

impl Asking {
    /// Where the form posts.
    pub fn action(self) -> &'static str {
        match self {
            Asking::PasswordReset => "/password/forgot",
            Asking::Unlock => "/login/unlock",
        }
    }

    /// The locale key of a part of the page (`title`, `intro`, `submit`, `sent`).
    pub fn key(self, part: &str) -> &'static str {
        match (self, part) {
            (Asking::PasswordReset, "title") => "forgot.title",
            (Asking::PasswordReset, "intro") => "forgot.intro",
            (Asking::PasswordReset, "submit") => "forgot.submit",
            (Asking::PasswordReset, _) => "forgot.sent",
            (Asking::Unlock, "title") => "unlock.title",
            (Asking::Unlock, "intro") => "unlock.intro",
            (Asking::Unlock, "submit") => "unlock.submit",
            (Asking::Unlock, _) => "unlock.sent",
        }
    }
}

#[derive(Template)]
#[template(path = "auth/ask_link.html")]
struct AskLinkView {
    page: Page,
    asking: Asking,
    errors: FieldErrors,
    email: String,
    sent: bool,
}

/// The empty form.
pub fn form(ctx: &Ctx, asking: Asking) -> AppResult<Response> {
    let view = AskLinkView {
        page: Page::new(ctx, None),
        asking,
        errors: FieldErrors::default(),
        email: String::new(),
        sent: false,
    };
    render(StatusCode::OK, &view)
}

/// The answer to a request: `Ok(true)` taken (the same page for every address), `Ok(false)`
/// throttled (429, wait `wait_minutes`), an invalid address (the form again, 422).
pub fn answer(
    ctx: &Ctx,
    asking: Asking,
    outcome: Result<bool, app::Error>,
    typed: String,
    wait_minutes: i64,
) -> AppResult<Response> {
    let mut view = AskLinkView {
        page: Page::new(ctx, None),
        asking,
        errors: FieldErrors::default(),
        email: String::new(),
        sent: true,
    };
    match outcome {
        Ok(true) => render(StatusCode::OK, &view),
        Ok(false) => Err(AppError::TooManyAttempts { wait_minutes }),
        Err(app::Error::Invalid(errors)) => {
            view.errors = errors;
            view.email = typed;
            view.sent = false;
            render(StatusCode::UNPROCESSABLE_ENTITY, &view)
        }
        Err(e) => Err(e.into()),
    }
}
