//! The compliance checklist as pages show it (an organisation's overview and home): each
//! row's title in the page's language and a link to where it is acted on.

use uuid::Uuid;

use crate::web::ctx::Ctx;
use crate::web::error::AppResult;
use crate::web::state::AppState;

/// A checklist row as shown.
pub struct ChecklistItem {
    pub number: String,
    pub title: String,
    pub place: String,
    pub status: &'static str,
    pub status_key: &'static str,
    pub needs_action: bool,
    pub link: Option<String>,
    /// The due date of the instruction or request behind the status (empty: none).
    pub due: String,
    /// The catalogue's item key.
    pub item: String,
    /// An earlier report was accepted and stays in force (the status is of a newer one).
    pub accepted_before: bool,
    /// The place the instruction or request behind the status names, when not the row's.
    pub open_place: Option<String>,
}

impl ChecklistItem {
    /// Only the organisation's administrators act on it (an organisation member reads it).
    pub fn needs_editor(&self) -> bool {
        crate::app::submissions::revise::FormKind::parse(&self.item)
            .is_some_and(|k| k.needs_editor())
    }
}

/// Where an item is reported for a place (`None`: the whole organisation), when it is
/// reported there.
pub fn item_page(org_id: Uuid, item: &str, loc: Option<Uuid>) -> Option<String> {
    match (item, loc) {
        ("administrator", Some(loc)) => Some(format!("/orgs/{org_id}/locations/{loc}#appoint")),
        ("id_management", None) => Some(format!("/orgs/{org_id}/id-management")),
        ("system_configuration", None) => Some(format!("/orgs/{org_id}/system-configuration")),
        ("router_ports", Some(loc)) => Some(format!("/orgs/{org_id}/locations/{loc}#router")),
        ("outside_connections", None) => Some(format!("/orgs/{org_id}/outside-connections")),
        ("antivirus", None) => Some(format!("/orgs/{org_id}/antivirus")),
        ("inhouse_measures", None) => Some(format!("/orgs/{org_id}/inhouse-measures")),
        ("gateway_logs", Some(loc)) => Some(format!("/orgs/{org_id}/locations/{loc}/gateway-logs")),
        _ => None,
    }
}

/// Builds the checklist of one organisation in the page's language, each row linked to
/// where it is acted on.
pub async fn checklist_for(
    state: &AppState,
    ctx: &Ctx,
    org_id: Uuid,
) -> AppResult<Vec<ChecklistItem>> {
    let t = ctx.tr();
    let rows = crate::app::submissions::reads::checklist_of(state, org_id).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let loc = r.unit.location;
            let open_place = r.open.as_ref().and_then(|o| o.place.clone());
            let link = match (r.open, r.item.as_str(), loc) {
                (Some(o), _, _) if o.instruction => {
                    Some(format!("/orgs/{org_id}/instructions/{}", o.id))
                }
                // A returned report leads to where it is revised: its receipt (the reason,
                // the comments and 修正する) until a revision is open, then the draft's page.
                (None, _, _) if r.status == "returned" && !r.draft_open => r
                    .submission
                    .map(|s| format!("/orgs/{org_id}/submissions/{s}/receipt")),
                (Some(_), "gateway_logs", Some(loc)) => {
                    Some(format!("/orgs/{org_id}/locations/{loc}/gateway-logs"))
                }
                _ => None,
            }
            .or_else(|| item_page(org_id, &r.item, loc));
            ChecklistItem {
                title: if t.code() == "en" {
                    r.title_en
                } else {
                    r.title_ja
                },
                number: r.number,
                place: r
                    .unit
                    .name
                    .unwrap_or_else(|| t.t("checklist.whole_org").to_string()),
                status: r.status,
                status_key: r.status_key,
                needs_action: r.needs_action,
                link,
                due: r.due.map(|d| d.to_string()).unwrap_or_default(),
                item: r.item,
                accepted_before: r.accepted_before,
                open_place,
            }
        })
        .collect())
}
