//! A report compared with the earlier ones a reader weighs it against: the version before it
//! in its series (a correction of a returned report) and the accepted report its series renews.
//! The reviewer's page and the organisation's 確認 page show the same comparisons.

use std::collections::HashMap;

use uuid::Uuid;

use super::{Place, Report, diff, of_submission};
use crate::app::Actor;
use crate::app::submissions::forms::SubmissionRow;
use crate::i18n::Tr;
use crate::web::error::AppResult;
use crate::web::state::AppState;

/// A comparison of this report with an earlier one.
pub struct Comparison {
    /// The section's anchor on the page.
    pub anchor: &'static str,
    /// 「第1版からの変更点」, 「前回受理された届出（受付番号 …）からの変更点」.
    pub heading: String,
    /// Said when nothing changed.
    pub unchanged: String,
    /// Only what changed.
    pub report: Report,
    /// Where the earlier report opens, when it is not among this one's versions.
    pub open: Option<String>,
}

/// The anchor of the comparison with the version before.
pub const PREVIOUS: &str = "changes";

impl Comparison {
    /// A correction that changes nothing of the returned version.
    pub fn corrects_nothing(&self) -> bool {
        self.anchor == PREVIOUS && self.report.is_empty()
    }
}

/// The earlier reports a report is compared with.
#[derive(Default)]
pub struct Earlier<'a> {
    /// The version before it (its number, its row).
    pub previous: Option<(i64, &'a SubmissionRow)>,
    /// The accepted report its series renews (receipt number, row, where it opens).
    pub renewed: Option<(&'a str, &'a SubmissionRow, String)>,
}

/// `report` against each earlier report there is, in that order.
pub async fn comparisons(
    state: &AppState,
    actor: &Actor,
    t: Tr,
    places: &HashMap<Uuid, Place>,
    report: &Report,
    earlier: Earlier<'_>,
) -> AppResult<Vec<Comparison>> {
    let mut out = vec![];
    if let Some((n, old)) = earlier.previous {
        let before = of_submission(state, actor, t, old, places, false).await?;
        let n = n.to_string();
        let receipt = old.receipt_no.as_deref().unwrap_or_default();
        let said = [("n", n.as_str()), ("receipt", receipt)];
        out.push(Comparison {
            anchor: PREVIOUS,
            heading: t.f("review.changes", &said),
            unchanged: t.f("report.no_changes", &said),
            report: diff(&before, report),
            open: None,
        });
    }
    if let Some((receipt, old, open)) = earlier.renewed {
        let before = of_submission(state, actor, t, old, places, false).await?;
        out.push(Comparison {
            anchor: "changes-accepted",
            heading: t.f("review.changes_renewed", &[("receipt", receipt)]),
            unchanged: t.f("report.no_changes_renewed", &[("receipt", receipt)]),
            report: diff(&before, report),
            open: Some(open),
        });
    }
    Ok(out)
}
