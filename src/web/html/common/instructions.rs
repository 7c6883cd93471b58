//! An improvement instruction as lines show it (the follow-up pages and the review page).

use uuid::Uuid;

use crate::app;
use crate::app::catalogue::Catalogue;
use crate::app::followup::InstructionRow;
use crate::web::page::jst;

/// An instruction as lists and pages show it.
pub struct InstructionItem {
    pub id: Uuid,
    pub org_id: Uuid,
    pub org: String,
    pub item: String,
    pub place: String,
    pub problem: String,
    pub required_change: String,
    pub due: String,
    pub state: String,
    pub state_key: String,
    pub overdue: bool,
    pub extension: Option<(String, String)>,
    pub issuer: String,
    pub issued: String,
    pub receipt: Option<(Uuid, String)>,
    pub version: i64,
}

/// An instruction in words of `lang`.
pub fn instruction_item(c: &Catalogue, lang: &str, r: InstructionRow) -> InstructionItem {
    InstructionItem {
        overdue: app::followup::instruction_overdue(&r),
        id: r.id,
        org_id: r.org_id,
        org: crate::i18n::org_label(&r.org_name, &r.org_code, lang),
        item: c.item_title(&r.item_key, lang),
        place: r.location_name.unwrap_or_default(),
        problem: r.problem,
        required_change: r.required_change,
        due: r.due_date.to_string(),
        state_key: format!("followup.state.{}", r.state),
        state: r.state,
        extension: r
            .extension_until
            .map(|d| (d.to_string(), r.extension_reason.unwrap_or_default())),
        issuer: r.issuer,
        issued: jst(&r.created_at),
        receipt: r.submission_id.zip(r.receipt_no),
        version: r.version,
    }
}
