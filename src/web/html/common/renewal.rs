//! A draft that renews an accepted report, as its page shows it: where it came from (receipt
//! number and day) and its files marked 引き継ぎ; with no draft open, what a new one would
//! start from.

use chrono::{DateTime, Datelike, Utc};
use uuid::Uuid;

use super::files::{FileItem, file_item};
use crate::app::submissions::Place;
use crate::app::submissions::forms::FormState;
use crate::app::submissions::renewal::Renewal;
use crate::app::{self, Actor};
use crate::i18n::Tr;
use crate::web::error::AppResult;
use crate::web::state::AppState;

/// The line at the top of a renewed draft.
pub struct RenewalNote {
    /// The accepted report (its receipt is linked).
    pub from: Uuid,
    /// 「前回受理された報告（受付番号 …、YYYY年M月D日）から引き継いでいます」
    pub text: String,
    /// What the clerk does with it: `renewal.preview` (no draft is open yet: saving makes
    /// this the draft) or `renewal.hint` (rows and files marked 引き継ぎ); a page without
    /// either names its own.
    pub hint: &'static str,
}

/// The note of a renewal, in the page's language.
pub fn note(t: &Tr, r: &Renewal) -> RenewalNote {
    note_of(t, r.from, &r.receipt_no, r.submitted_at, !r.in_draft)
}

/// The note for a form filled in from the accepted report `from` (receipt number, when it
/// was submitted); `preview`: no draft holds it yet.
pub fn note_of(
    t: &Tr,
    from: Uuid,
    receipt_no: &str,
    submitted_at: DateTime<Utc>,
    preview: bool,
) -> RenewalNote {
    let day = (submitted_at + chrono::Duration::hours(9)).date_naive();
    let date = t.f(
        "renewal.date",
        &[
            ("y", &day.year().to_string()),
            ("m", &day.month().to_string()),
            ("d", &day.day().to_string()),
            ("mm", &format!("{:02}", day.month())),
            ("dd", &format!("{:02}", day.day())),
        ],
    );
    RenewalNote {
        from,
        text: t.f(
            "renewal.from",
            &[("receipt", receipt_no), ("date", date.as_str())],
        ),
        hint: if preview {
            "renewal.preview"
        } else {
            "renewal.hint"
        },
    }
}

/// What a page of a place needs of its draft: the draft (if open), the renewal behind it (or
/// before it) and the files to list, carried ones marked.
pub struct DraftState {
    pub form: FormState,
    pub files: Vec<FileItem>,
}

impl DraftState {
    /// The data the form starts from: the draft's, else the accepted report's a new draft
    /// would start from, else nothing.
    pub fn data(&self) -> serde_json::Value {
        self.form.data()
    }

    /// The open draft's id.
    pub fn draft_id(&self) -> Option<Uuid> {
        self.form.draft_id()
    }

    /// The note for the page, in its language.
    pub fn note(&self, t: &Tr) -> Option<RenewalNote> {
        self.form.renewal.as_ref().map(|r| note(t, r))
    }

    /// The note above a version sent and not accepted yet, shown in place of a draft;
    /// `may_revise`: the reader may open its revision once it is returned.
    pub fn shown(&self, t: &Tr, may_revise: bool) -> Option<ShownNote> {
        self.form.shown.as_ref().map(|s| ShownNote {
            id: s.id,
            state: s.state.clone(),
            text: t.f(
                "shown.text",
                &[
                    ("receipt", s.receipt_no.as_str()),
                    ("at", crate::web::page::jst(&s.submitted_at).as_str()),
                ],
            ),
            can_revise: may_revise && s.state == "returned",
        })
    }

    /// Whether the form may be changed on the page: the reader may report, and no version
    /// sent is shown in place of a draft.
    pub fn editable(&self, may_report: bool) -> bool {
        may_report && self.form.shown.is_none()
    }
}

/// The line above a version shown in place of a draft: its receipt number and when it was
/// sent, its state, and (returned) the way to revise it.
pub struct ShownNote {
    pub id: Uuid,
    /// `submitted`, `under_review` or `returned`.
    pub state: String,
    /// 「受付番号 … （… 提出）の内容を表示しています。」
    pub text: String,
    pub can_revise: bool,
}

impl ShownNote {
    /// The locale key of its state's name.
    pub fn state_key(&self) -> String {
        format!("checklist.status.{}", self.state)
    }

    /// The locale key of what the reader can do about it.
    pub fn hint_key(&self, center: bool) -> String {
        match (center, self.state.as_str()) {
            (true, _) => "shown.hint.center".into(),
            (false, "returned") if !self.can_revise => "shown.hint.returned_read".into(),
            (false, st) => format!("shown.hint.{st}"),
        }
    }
}

/// Reads the page state of a place for the actor: its open draft, the renewal, its versions,
/// and the files to list (carried ones marked; with no draft, the files a renewal would carry).
pub async fn draft_state(state: &AppState, actor: &Actor, place: &Place) -> AppResult<DraftState> {
    let mut form = app::submissions::forms::form_state(state, actor, place).await?;
    let files = match (&form.draft, &form.renewal) {
        (Some(_), renewal) => std::mem::take(&mut form.files)
            .into_iter()
            .map(|f| {
                let carried = renewal.as_ref().is_some_and(|r| r.carries(&f));
                FileItem {
                    carried,
                    ..file_item(f)
                }
            })
            .collect(),
        (None, Some(r)) => r
            .files
            .iter()
            .cloned()
            .map(|f| FileItem {
                carried: true,
                in_draft: false,
                ..file_item(f)
            })
            .collect(),
        (None, None) => form.shown.as_ref().map_or_else(Vec::new, |s| {
            s.files
                .iter()
                .cloned()
                .map(|f| FileItem {
                    in_draft: false,
                    ..file_item(f)
                })
                .collect()
        }),
    };
    Ok(DraftState { form, files })
}
