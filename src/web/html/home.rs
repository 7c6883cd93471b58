//! The home page of each role: its reads are `app::home::overview` and the checklist.

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use crate::app;
use crate::domain::Role;
use crate::web::ctx::{Ctx, CurrentUser};
use crate::web::error::AppResult;
use crate::web::html::common::checklist::{ChecklistItem, checklist_for};
use crate::web::html::common::entries;
use crate::web::page::{Page, jst, render};
use crate::web::state::AppState;

/// One of an organisation's next steps, in the order they are best done.
pub struct NextStep {
    /// What to do, in words.
    pub text: String,
    /// Where it is done.
    pub link: String,
    /// The due date, when an instruction or a request sets one (empty: none).
    pub due: String,
    /// Past its due date.
    pub overdue: bool,
    /// Done by an organisation admin, and the reader is not one.
    pub admin_only: bool,
}

/// The order of the checklist's open rows on the home page: what is late, then what the
/// Center asked for by a date (soonest first), then returned reports, drafts, and the rest.
fn rank(status: &str) -> u8 {
    match status {
        "overdue" => 0,
        "instruction_open" | "requested" => 1,
        "returned" => 2,
        "draft" => 3,
        _ => 4,
    }
}

/// The organisation's next steps: offices and connections first while there are none, then
/// the checklist rows that need the organisation, most pressing first, with its name (while
/// it is only its user code) after what is late or asked for by a date.
fn next_steps(
    t: &crate::i18n::Tr,
    org: uuid::Uuid,
    setup: &app::home::Setup,
    checklist: &[ChecklistItem],
    editor: bool,
) -> Vec<NextStep> {
    let mut steps = vec![];
    if setup.needs_office {
        steps.push(NextStep {
            text: t.t("home.next.office").to_string(),
            link: format!("/orgs/{org}#new-location"),
            due: String::new(),
            overdue: false,
            admin_only: !editor,
        });
    }
    if setup.needs_connection {
        steps.push(NextStep {
            text: t.t("home.next.connection").to_string(),
            link: match setup.first_location {
                Some(l) => format!("/orgs/{org}/locations/{l}#connections"),
                None => format!("/orgs/{org}#new-location"),
            },
            due: String::new(),
            overdue: false,
            admin_only: !editor,
        });
    }
    // A question from the Center on a report it is reviewing: answered before the rest.
    steps.extend(setup.questions.iter().map(|(id, receipt)| NextStep {
        text: t.f("home.next.answer_center", &[("receipt", receipt.as_str())]),
        link: format!("/orgs/{org}/submissions/{id}/receipt#comments"),
        due: String::new(),
        overdue: false,
        admin_only: false,
    }));
    let mut open: Vec<&ChecklistItem> = checklist
        .iter()
        .filter(|r| r.needs_action && r.link.is_some())
        .collect();
    // Stable: rows of one rank keep the catalogue's order.
    open.sort_by(|a, b| {
        (rank(a.status), a.due.is_empty(), &a.due).cmp(&(rank(b.status), b.due.is_empty(), &b.due))
    });
    // The name its receipts will carry: after what is late or asked for by a date.
    let urgent = open.iter().take_while(|r| rank(r.status) < 2).count();
    let name_at = steps.len() + urgent;
    steps.extend(open.into_iter().map(|r| NextStep {
        text: t.f(
            &format!("home.next.do.{}", r.status),
            &[
                ("item", format!("{} {}", r.number, r.title).as_str()),
                ("place", r.open_place.as_deref().unwrap_or(&r.place)),
            ],
        ),
        link: r.link.clone().unwrap_or_default(),
        due: r.due.clone(),
        overdue: r.status == "overdue",
        admin_only: !editor
            && app::submissions::revise::FormKind::parse(&r.item).is_some_and(|k| k.needs_editor()),
    }));
    if setup.needs_name {
        steps.insert(
            name_at,
            NextStep {
                text: t.t("home.next.name").to_string(),
                link: format!("/orgs/{org}/profile"),
                due: String::new(),
                overdue: false,
                admin_only: !editor,
            },
        );
    }
    steps
}

/// A line of the recent-activity list.
pub struct ActivityItem {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: String,
}

#[derive(Template)]
#[template(path = "home/home.html")]
struct HomeView {
    page: Page,
    role: Role,
    org_count: usize,
    activity: Vec<ActivityItem>,
    org_id: Option<uuid::Uuid>,
    checklist: Vec<ChecklistItem>,
    /// An organisation's next steps, in order.
    next: Vec<NextStep>,
    /// Items that join the checklist once offices and connections are registered.
    later: Vec<String>,
    /// Whether something submitted waits for the Center (with nothing to do, the page says
    /// which: waiting, or all done).
    awaiting_center: bool,
    /// Center roles: what waits for review and follow-up.
    waiting: app::home::Waiting,
    oldest: String,
    followup: app::home::CenterCounts,
}

/// `GET /home`
pub async fn home(
    State(state): State<Arc<AppState>>,
    ctx: Ctx,
    me: CurrentUser,
) -> AppResult<Response> {
    let o = app::home::overview(&state, &me.actor(&ctx)).await?;
    let oldest = o.waiting.oldest.as_ref().map(jst).unwrap_or_default();
    let t = ctx.tr();
    let words = entries::words(&t);
    let names = &o.names;
    let activity = o
        .activity
        .into_iter()
        .map(|r| ActivityItem {
            at: jst(&r.at),
            actor: names.actor(&r, &words),
            action: entries::action(&t, &r.action),
            target: entries::target(&t, names, &words, &r),
        })
        .collect();
    let (mut checklist, mut next, mut later) = (vec![], vec![], vec![]);
    if let Some(org) = me.org_id.filter(|_| me.role.is_org()) {
        checklist = checklist_for(&state, &ctx, org).await?;
        let setup = app::home::setup(&state, &me.actor(&ctx), org).await?;
        let editor = app::structure::can_edit(&me.actor(&ctx));
        next = next_steps(&t, org, &setup, &checklist, editor);
        // An account made at the command line is named by its address until its person
        // names it: the receipts they seal name the submitter.
        if me.email.split('@').next() == Some(me.name.as_str()) {
            next.insert(
                0,
                NextStep {
                    text: t.t("home.next.own_name").to_string(),
                    link: "/account#name".into(),
                    due: String::new(),
                    overdue: false,
                    admin_only: false,
                },
            );
        }
        later = setup
            .later
            .into_iter()
            .map(|(n, ja, en)| format!("{n} {}", if t.code() == "en" { en } else { ja }))
            .collect();
    }
    let awaiting_center = checklist.iter().any(|c| {
        matches!(
            c.status,
            "submitted" | "under_review" | "instruction_answered"
        )
    });
    let view = HomeView {
        page: Page::new(&ctx, Some(&me)),
        awaiting_center,
        role: me.role,
        org_count: o.org_count,
        activity,
        org_id: me.org_id,
        checklist,
        next,
        later,
        waiting: o.waiting,
        oldest,
        followup: o.followup,
    };
    render(StatusCode::OK, &view)
}
