//! View helpers more than one page uses (never handlers): resolving the organisation of a
//! page, file lists and downloads, comment threads, instruction lines, the multipart upload
//! loop, imports' confirmation step, report views, gateway-log checks and audit entries in
//! words.

pub mod access;
pub mod ask_link;
pub mod checklist;
pub mod comments;
pub mod entries;
pub mod files;
pub mod form_confirm;
pub mod holds;
pub mod imports;
pub mod instructions;
pub mod locations;
pub mod logcheck;
pub mod renewal;
pub mod report;
pub mod upload;
pub mod users;

use crate::app::submissions::{Drafted, Place, ReportKind};

/// The path (under `/orgs/{org}/`) of the page where a place's report is drafted.
pub fn draft_path(place: &Place) -> String {
    match (place.kind, place.site) {
        (ReportKind::GatewayLogs, Some(site)) => format!("locations/{site}/gateway-logs"),
        (ReportKind::GatewayLogs, None) => String::new(),
        (ReportKind::SystemConfiguration, _) => "system-configuration".into(),
        (ReportKind::OutsideConnections, _) => "outside-connections".into(),
        (ReportKind::Antivirus, _) => "antivirus".into(),
        (ReportKind::InhouseMeasures, _) => "inhouse-measures".into(),
    }
}

/// The page where a draft is corrected: its place's report page, or (a form's revision)
/// the revision page of the draft itself.
pub fn draft_page(org_id: uuid::Uuid, draft: uuid::Uuid, what: &Drafted) -> String {
    match what {
        Drafted::Report(place) => format!("/orgs/{org_id}/{}", draft_path(place)),
        Drafted::Form(_) => format!("/orgs/{org_id}/submissions/{draft}/edit"),
    }
}

/// Where a click on a draft that is gone (discarded, or sealed meanwhile, in another tab)
/// lands: back on the page it was sent from, if that page is the organisation's, saying so.
pub fn draft_gone(
    org_id: uuid::Uuid,
    back: &str,
    secure: bool,
) -> Option<axum::response::Response> {
    (back.starts_with(&format!("/orgs/{org_id}/")) && crate::web::page::safe_next(back).is_some())
        .then(|| crate::web::page::redirect_with_flash(back, "flash.draft_gone", secure))
}

/// Each row's (field, locale key) errors by the row's index.
pub type RowErrors = std::collections::BTreeMap<usize, Vec<(String, &'static str)>>;

/// Form errors of a page of rows (`rows.{i}.{field}`), split: the whole form's messages in
/// the order recorded, and each row's (field, locale key) by the row's index.
pub fn split_row_errors(errors: &crate::app::FieldErrors) -> (Vec<&'static str>, RowErrors) {
    let mut form = vec![];
    let mut rows = RowErrors::default();
    for (field, key) in errors.iter() {
        let at = field
            .strip_prefix("rows.")
            .and_then(|rest| rest.split_once('.'))
            .and_then(|(i, f)| i.parse::<usize>().ok().map(|i| (i, f)));
        match at {
            Some((i, f)) => rows.entry(i).or_default().push((f.to_string(), key)),
            None => form.push(key),
        }
    }
    (form, rows)
}

/// The answer to a submit: the receipt (also for a repeated submit, with its own message).
/// 303 to the confirmation step of a checked draft (the page's 提出).
pub fn to_confirm(org_id: uuid::Uuid, draft: uuid::Uuid) -> axum::response::Response {
    use axum::response::IntoResponse;
    axum::response::Redirect::to(&format!("/orgs/{org_id}/submissions/{draft}/confirm"))
        .into_response()
}

pub fn to_receipt(
    state: &crate::web::state::AppState,
    org_id: uuid::Uuid,
    sealed: &crate::app::submissions::Sealed,
) -> axum::response::Response {
    crate::web::page::redirect_with_flash(
        &format!("/orgs/{org_id}/submissions/{}/receipt", sealed.submission),
        if sealed.already {
            "flash.already_submitted"
        } else {
            "flash.submitted"
        },
        state.cookies.secure,
    )
}
