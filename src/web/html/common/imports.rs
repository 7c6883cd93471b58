//! What the equipment and antivirus imports share: reading off the runtime, the messages of a
//! refused file, and the confirmation step (取り込み → 確認 → 登録): the rows read are shown,
//! carried in the page's form, checked again and only then stored.

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;

use crate::domain::sheet::{Failed, column_letter};
use crate::i18n::Tr;
use crate::web::ctx::{Ctx, CurrentUser};
use crate::web::error::{AppError, AppResult};
use crate::web::page::{Page, render};

/// The most problems listed for one import; the rest are counted.
const MAX_LISTED_PROBLEMS: usize = 50;
/// The most place names listed in one message.
const MAX_LISTED_NAMES: usize = 30;

/// The form the confirmation page posts: the rows as read, in each import's field order.
#[derive(serde::Deserialize)]
pub struct ConfirmForm {
    #[serde(default)]
    pub rows: String,
}

/// Messages for an import that stored nothing: each problem at the sheet's own row and column
/// letter, in the worksheet read when the workbook has one ("シート「機器一覧」6行目 D列
/// 「設置場所」：…"); `prefix` names the column labels' keys and `names` are the places a row
/// may name.
pub fn problems(t: &Tr, prefix: &str, failed: Failed, names: &[String]) -> Vec<String> {
    let mut out = vec![];
    let sheet = failed.sheet.as_deref();
    let total = failed.problems.len();
    let listed = if names.len() > MAX_LISTED_NAMES {
        let more = (names.len() - MAX_LISTED_NAMES).to_string();
        let first = names[..MAX_LISTED_NAMES].join(t.t("import.separator"));
        t.f("import.names_more", &[("names", &first), ("count", &more)])
    } else {
        names.join(t.t("import.separator"))
    };
    for p in failed.problems.into_iter().take(MAX_LISTED_PROBLEMS) {
        let key = match p.key {
            "error.location_unknown" | "error.office_unknown" if names.is_empty() => {
                "error.no_places"
            }
            key => key,
        };
        let reason = t.f(key, &[("value", &p.value), ("names", &listed)]);
        if p.field == "file" {
            out.push(match sheet {
                Some(sheet) => t.f("import.in_sheet", &[("sheet", sheet), ("reason", &reason)]),
                None => reason,
            });
            continue;
        }
        let row = p.row.to_string();
        let at = match p.col {
            Some(c) => t.f(
                "import.at_cell",
                &[("row", &row), ("col", &column_letter(c))],
            ),
            None => t.f("import.at_row", &[("row", &row)]),
        };
        let at = match sheet {
            Some(sheet) => t.f("import.at_sheet", &[("sheet", sheet), ("at", &at)]),
            None => at,
        };
        out.push(t.f(
            "import.problem",
            &[
                ("at", &at),
                ("column", t.t(&format!("{prefix}.{}", p.field))),
                ("reason", &reason),
            ],
        ));
    }
    if total > MAX_LISTED_PROBLEMS {
        out.push(t.f(
            "import.more",
            &[("count", &(total - MAX_LISTED_PROBLEMS).to_string())],
        ));
    }
    out
}

/// The most bytes the rows of a confirmation may inflate to.
const PAYLOAD_LIMIT: usize = 16 * 1024 * 1024;

/// The rows as the confirmation form carries them: JSON, deflated and base64url-encoded, so a
/// thousand rows of Japanese text stay well within the form size limit.
pub fn payload(rows: Vec<Vec<String>>) -> AppResult<String> {
    use base64::Engine;
    let json = serde_json::to_vec(&rows).map_err(|e| AppError::Internal(e.into()))?;
    let packed = miniz_oxide::deflate::compress_to_vec(&json, 6);
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(packed))
}

/// The rows the confirmation form sent back; at most `max`.
pub fn rows_posted(form: &ConfirmForm, max: usize) -> AppResult<Vec<Vec<String>>> {
    use base64::Engine;
    let packed = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(form.rows.trim())
        .map_err(|_| AppError::BadRequest)?;
    let json = miniz_oxide::inflate::decompress_to_vec_with_limit(&packed, PAYLOAD_LIMIT)
        .map_err(|_| AppError::BadRequest)?;
    let rows: Vec<Vec<String>> = serde_json::from_slice(&json).map_err(|_| AppError::BadRequest)?;
    if rows.is_empty() || rows.len() > max {
        return Err(AppError::BadRequest);
    }
    Ok(rows)
}

#[derive(Template)]
#[template(path = "submissions/import_confirm.html")]
struct ConfirmView {
    page: Page,
    org_name: String,
    title: String,
    source: String,
    headings: Vec<String>,
    rows: Vec<(usize, Vec<String>)>,
    action: String,
    back: String,
    payload: String,
    /// 「次の列は取り込みません: …」, or empty.
    ignored: String,
    /// What was read without a column, in words.
    assumed: Vec<String>,
}

/// What the confirmation page shows and posts.
pub struct Confirm {
    pub org_name: String,
    /// The report's title (locale key).
    pub title_key: &'static str,
    pub sheet: Option<String>,
    pub header_row: usize,
    /// The sheet's headings whose columns are not read.
    pub ignored: Vec<String>,
    /// The fields the sheet has no column for, read with a default (`{prefix}.assumed.{field}`
    /// says which).
    pub assumed: Vec<String>,
    pub headings: Vec<String>,
    /// Each row's sheet row number and the words shown for it.
    pub rows: Vec<(usize, Vec<String>)>,
    /// Where 登録 posts, and where 戻る leads.
    pub action: String,
    pub back: String,
    pub payload: String,
}

/// Renders the confirmation step: nothing is stored yet.
pub fn confirm_page(ctx: &Ctx, me: &CurrentUser, c: Confirm) -> AppResult<Response> {
    let t = ctx.tr();
    let n = c.rows.len().to_string();
    let row = c.header_row.to_string();
    let source = match &c.sheet {
        Some(sheet) => t.f(
            "import.read_from_sheet",
            &[("sheet", sheet), ("row", &row), ("n", &n)],
        ),
        None => t.f("import.read_from_file", &[("row", &row), ("n", &n)]),
    };
    render(
        StatusCode::OK,
        &ConfirmView {
            page: Page::new(ctx, Some(me)),
            org_name: c.org_name,
            title: t.t(c.title_key).to_string(),
            source,
            headings: c.headings,
            rows: c.rows,
            action: c.action,
            back: c.back,
            payload: c.payload,
            assumed: c.assumed,
            ignored: if c.ignored.is_empty() {
                String::new()
            } else {
                t.f(
                    "import.ignored",
                    &[("columns", &c.ignored.join(t.t("ui.list_sep")))],
                )
            },
        },
    )
}
