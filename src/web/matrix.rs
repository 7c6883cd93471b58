//! The Center's compliance matrix: organisations × catalogue items, with the worst status of
//! each item over the organisation's offices and sites, counts per column, filters and sorting.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use uuid::Uuid;

use super::ctx::{Ctx, CurrentUser};
use super::error::AppResult;
use super::page::{Page, Pager, list_link, page_number, render};
use super::state::AppState;
use crate::app;
use crate::domain::ConnectionForm;
use crate::domain::checklist::Status;

/// One cell.
pub struct Cell {
    pub link: String,
    pub status: &'static str,
    pub label_key: &'static str,
    /// An earlier accepted report stays in force.
    pub in_force: bool,
    /// The organisation has something to do here (counted in the column's heading).
    pub needs_action: bool,
}

/// One organisation's row.
pub struct MatrixRow {
    pub org_id: Uuid,
    pub name: String,
    pub code: String,
    /// Its other user codes.
    pub other_codes: Vec<String>,
    pub cells: Vec<Option<Cell>>,
    pub open: usize,
    /// What orders the rows by name (五十音順 of the reading where given).
    pub name_order: String,
    /// No office registered yet: its per-office items read 「—」 for that reason.
    pub no_office: bool,
}

/// A column heading with its count of organisations that must act.
pub struct Column {
    pub number: String,
    pub title: String,
    pub open: usize,
    /// The matrix narrowed to the organisations that must act on this item.
    pub link: String,
}

#[derive(Template)]
#[template(path = "orgs/matrix.html")]
struct MatrixView {
    page: Page,
    columns: Vec<Column>,
    rows: Vec<MatrixRow>,
    total: usize,
    form: String,
    status: String,
    sort: String,
    /// The search as typed.
    q: String,
    pager: Pager,
    forms: Vec<ConnectionForm>,
    statuses: Vec<Status>,
    /// The item the rows are narrowed to (its number and title), and the link without it.
    item: Option<(String, String)>,
    all_items_link: String,
}

#[derive(Deserialize, Default)]
pub struct MatrixQuery {
    #[serde(default)]
    form: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    sort: String,
    /// A catalogue item: only the organisations that must act on it.
    #[serde(default)]
    item: String,
    /// Part of a name or user code.
    #[serde(default)]
    q: String,
    #[serde(default)]
    page: String,
}

/// Organisations a page of the matrix shows.
const PER_PAGE: usize = 100;

/// `GET /admin/matrix`
pub async fn matrix(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
    Query(q): Query<MatrixQuery>,
) -> AppResult<Response> {
    let t = ctx.tr();
    let form = ConnectionForm::parse(&q.form);
    let wanted = Status::parse(&q.status);
    // 「まだ何も提出していない」: no item sent to the Center at all.
    let nothing = q.status == "nothing";
    let app::matrix::Matrix {
        catalogue,
        rows: found,
    } = app::matrix::matrix(&state, &me.actor(&ctx), form, wanted).await?;
    let wanted_text = crate::domain::input::folded(&q.q);
    let mut rows = vec![];
    for app::matrix::MatrixRow {
        org,
        summary,
        in_force,
        no_office,
    } in found
    {
        if !org.found_by(&wanted_text) {
            continue;
        }
        let open = summary
            .iter()
            .flatten()
            .filter(|s| s.needs_action())
            .count();
        rows.push(MatrixRow {
            name_order: org.name_order(),
            org_id: org.id,
            name: org.name.clone(),
            code: org.user_code.clone(),
            other_codes: org.other_codes.clone(),
            cells: summary
                .into_iter()
                .zip(&catalogue.items)
                .zip(in_force)
                .map(|((s, item), in_force)| {
                    s.map(|s| Cell {
                        link: cell_link(org.id, &item.key, s),
                        status: s.as_str(),
                        label_key: s.label_key(),
                        in_force,
                        needs_action: s.needs_action(),
                    })
                })
                .collect(),
            open,
            no_office,
        });
    }
    if nothing {
        rows.retain(|r| {
            r.cells.iter().flatten().all(|c| {
                !matches!(
                    c.status,
                    "submitted"
                        | "under_review"
                        | "accepted"
                        | "returned"
                        | "instruction_open"
                        | "instruction_answered"
                )
            })
        });
    }
    let item_at = catalogue.items.iter().position(|it| it.key == q.item);
    if let Some(i) = item_at {
        rows.retain(|r| r.cells[i].as_ref().is_some_and(|c| c.needs_action));
    }
    match q.sort.as_str() {
        "name" => rows.sort_by(|a, b| a.name_order.cmp(&b.name_order).then(a.code.cmp(&b.code))),
        "open" => rows.sort_by(|a, b| b.open.cmp(&a.open).then(a.code.cmp(&b.code))),
        _ => rows.sort_by(|a, b| a.code.cmp(&b.code)),
    }
    let form = form.map(|f| f.as_str().to_string()).unwrap_or_default();
    let status = if nothing {
        "nothing".to_string()
    } else {
        wanted.map(|s| s.as_str().to_string()).unwrap_or_default()
    };
    let item_key = item_at
        .map(|i| catalogue.items[i].key.clone())
        .unwrap_or_default();
    let narrowed = |key: &str| {
        let link = list_link(
            "/admin/matrix",
            &[
                ("form", form.as_str()),
                ("status", status.as_str()),
                ("sort", q.sort.as_str()),
                ("q", q.q.as_str()),
                ("item", key),
            ],
            1,
        );
        // The first page is the page without a number.
        link.strip_suffix("page=1")
            .unwrap_or(&link)
            .trim_end_matches(['&', '?'])
            .to_string()
    };
    let columns = catalogue
        .items
        .iter()
        .enumerate()
        .map(|(i, it)| Column {
            number: it.number.clone(),
            title: it.title(t.code()).to_string(),
            open: rows
                .iter()
                .filter(|r| r.cells[i].as_ref().is_some_and(|c| c.needs_action))
                .count(),
            link: narrowed(&it.key),
        })
        .collect();
    let all_items_link = narrowed("");
    // The counts above are of every organisation found; the rows, one page of them.
    let total = rows.len();
    let filters = [
        ("form", form.as_str()),
        ("status", status.as_str()),
        ("sort", q.sort.as_str()),
        ("q", q.q.as_str()),
        ("item", item_key.as_str()),
    ];
    let pager = Pager::new(total, PER_PAGE, page_number(&q.page), |n| {
        list_link("/admin/matrix", &filters, n)
    });
    let view = MatrixView {
        page: Page::new(&ctx, Some(&me)),
        columns,
        total,
        rows: pager.slice(rows),
        pager,
        form,
        status,
        q: q.q.trim().to_string(),
        sort: q.sort,
        forms: ConnectionForm::ALL.to_vec(),
        statuses: Status::ALL.to_vec(),
        item: item_at.map(|i| {
            let it = &catalogue.items[i];
            (it.number.clone(), it.title(t.code()).to_string())
        }),
        all_items_link,
    };
    render(StatusCode::OK, &view)
}

/// Where a cell leads: what was sent for the item (the organisation's 提出履歴 narrowed to it),
/// the requests and instructions when one is open, else the organisation's page.
fn cell_link(org: Uuid, item: &str, s: Status) -> String {
    match (s, item) {
        (Status::Submitted | Status::UnderReview | Status::Accepted | Status::Returned, _) => {
            format!("/orgs/{org}/submissions?item={item}")
        }
        (
            Status::Requested
            | Status::InstructionOpen
            | Status::InstructionAnswered
            | Status::Overdue,
            _,
        ) => format!("/orgs/{org}/followup"),
        (_, "id_management") => format!("/orgs/{org}/id-management"),
        _ => format!("/orgs/{org}"),
    }
}
