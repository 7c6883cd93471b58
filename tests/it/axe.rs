//! axe-core in the browser journeys: every page a journey waits on is checked once against
//! the WCAG 2.2 AA rules at 1366 px and at 320 px wide, and any violation fails the test with
//! the rule, the help text and the offending elements. axe-core comes from the npm registry
//! (`.ci/run` installs it and sets `SECPORTAL_TEST_AXE` to its `axe.min.js`); without that
//! variable the check is skipped with a note, so a bare `cargo test` passes on a fresh machine.
//! With it, two things axe-core leaves to people are measured too: no sideways scroll at
//! 320 px, and 3:1 for field borders and focus rings.

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock};

use crate::wd::Client;

/// The WCAG 2.2 AA tag set the issue asks for.
const TAGS: [&str; 5] = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"];

/// The widths every page is checked at.
const WIDTHS: [u32; 2] = [1366, 320];

/// The source of axe-core, read once, or `None` when the check is off.
fn source() -> Option<&'static str> {
    static SRC: OnceLock<Option<String>> = OnceLock::new();
    SRC.get_or_init(|| {
        let path = std::env::var("SECPORTAL_TEST_AXE")
            .ok()
            .filter(|s| !s.is_empty());
        match path {
            None => {
                eprintln!("SECPORTAL_TEST_AXE not set: axe-core accessibility check skipped");
                None
            }
            Some(p) => Some(
                std::fs::read_to_string(&p)
                    .unwrap_or_else(|e| panic!("SECPORTAL_TEST_AXE={p} cannot be read: {e}")),
            ),
        }
    })
    .as_deref()
}

/// Pages already checked: the path with its identifiers blanked, whether the page shows
/// errors (a form re-rendered with its errors is a page of its own), and how many links the
/// menu has (the Center's home and an organisation's are different pages at one path).
fn seen() -> &'static Mutex<HashSet<String>> {
    static SEEN: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();
    SEEN.get_or_init(|| Mutex::new(HashSet::new()))
}

/// A path's shape: segments holding digits (ids, UUIDs, receipt numbers) become `_`.
fn shape(path: &str) -> String {
    path.split('/')
        .map(|s| {
            if s.chars().any(|c| c.is_ascii_digit()) {
                "_"
            } else {
                s
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

const RUN: &str = r#"
var done = arguments[arguments.length - 1];
var tags = arguments[0];
// Let the page answer the resize first (page.js marks what scrolls).
setTimeout(function () {
axe.run(document, { runOnly: { type: "tag", values: tags }, resultTypes: ["violations"] })
  .then(function (r) {
    done(r.violations.map(function (v) {
      return v.id + " (" + v.impact + "): " + v.help + "\n      " +
        v.nodes.slice(0, 6).map(function (n) {
          return n.target.join(" ") + " — " + (n.failureSummary || "").replace(/\s+/g, " ");
        }).join("\n      ");
    }));
  }, function (e) { done(["axe.run failed: " + e]); });
}, 100);
"#;

/// What axe-core leaves to people, measured in the page: at 320 px the page itself never
/// scrolls sideways (WCAG 1.4.10; a wide table scrolls inside its own box), and every field's
/// border and its focus ring reach 3:1 against the background around them (WCAG 1.4.11).
const OWN: &str = r#"
function rgb(s) { var m = s.match(/[\d.]+/g) || [0, 0, 0, 0]; return m.map(Number); }
function lum(c) { var v = c.slice(0, 3).map(function (x) { x /= 255; return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4); }); return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2]; }
function ratio(a, b) { var x = lum(a), y = lum(b); return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05); }
function behind(el) { var n = el.parentElement; while (n) { var c = rgb(getComputedStyle(n).backgroundColor); if (c.length < 4 || c[3] > 0) { return c; } n = n.parentElement; } return [255, 255, 255]; }
var out = [];
if (window.innerWidth <= 320 && document.documentElement.scrollWidth > window.innerWidth + 1) {
  var wide = Array.from(document.body.querySelectorAll("*")).filter(function (e) {
    return e.getBoundingClientRect().right > window.innerWidth + 1 && !Array.from(e.children).some(function (k) { return k.getBoundingClientRect().right > window.innerWidth + 1; });
  }).slice(0, 5).map(function (e) { return e.tagName.toLowerCase() + (e.className ? "." + String(e.className).replace(/ /g, ".") : "") + " (" + Math.round(e.getBoundingClientRect().right) + " px)"; });
  out.push("sideways scroll at 320 px: the page is " + document.documentElement.scrollWidth + " px wide; past the edge: " + wide.join(", "));
}
document.querySelectorAll("input:not([type=hidden]):not([type=checkbox]):not([type=radio]):not([type=file]), textarea, select").forEach(function (el) {
  if (!el.offsetParent) { return; }
  var name = el.tagName.toLowerCase() + (el.name ? "[name=" + el.name + "]" : "");
  var bg = behind(el);
  var b = ratio(rgb(getComputedStyle(el).borderTopColor), bg);
  if (getComputedStyle(el).borderTopStyle !== "none" && b < 3) { out.push(name + ": border contrast " + b.toFixed(2) + ":1"); }
  el.focus({ preventScroll: true });
  var st = getComputedStyle(el);
  if (st.outlineStyle === "none" || parseFloat(st.outlineWidth) < 2) { out.push(name + ": no focus ring"); }
  else { var f = ratio(rgb(st.outlineColor), bg); if (f < 3) { out.push(name + ": focus ring contrast " + f.toFixed(2) + ":1"); } }
  el.blur();
});
return out;
"#;

/// Checks the page the browser shows, unless a page of the same shape was checked already.
pub(crate) async fn check(c: &Client) {
    let Some(src) = source() else {
        return;
    };
    let Ok(url) = c.current_url().await else {
        return;
    };
    let state = c
        .execute(
            "return document.contentType === 'text/html' ? \
             (document.querySelector('.form-error, .field-error, [aria-invalid=true]') ? 'errors' : 'page') \
             + ' nav' + document.querySelectorAll('header nav a').length : '';",
            vec![],
        )
        .await
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    if state.is_empty() {
        return;
    }
    let key = format!("{} {state}", shape(url.path()));
    if !seen().lock().unwrap().insert(key.clone()) {
        return;
    }
    if let Ok(log) = std::env::var("SECPORTAL_TEST_AXE_LOG") {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(log)
            .unwrap();
        writeln!(f, "{key}").unwrap();
    }
    let loaded = c
        .execute("return typeof window.axe !== 'undefined';", vec![])
        .await
        .unwrap();
    if loaded != serde_json::json!(true) {
        c.execute(src, vec![]).await.unwrap();
    }
    let rect = c.get_window_rect().await.unwrap();
    let mut found = vec![];
    for width in WIDTHS {
        c.set_window_size(width, 900).await.unwrap();
        let v = c
            .execute_async(RUN, vec![serde_json::json!(TAGS)])
            .await
            .unwrap();
        let own = c.execute(OWN, vec![]).await.unwrap();
        // SECPORTAL_TEST_SHOTS=<dir>: a screenshot of each page checked, at each width.
        if let Ok(dir) = std::env::var("SECPORTAL_TEST_SHOTS") {
            let name: String = key
                .chars()
                .map(|ch| if ch.is_ascii_alphanumeric() { ch } else { '-' })
                .collect();
            std::fs::create_dir_all(&dir).unwrap();
            let png = c.screenshot().await.unwrap();
            std::fs::write(format!("{dir}/{}-{width}.png", name.trim_matches('-')), png).unwrap();
        }
        for line in v.as_array().into_iter().chain(own.as_array()).flatten() {
            found.push(format!(
                "  at {width} px: {}",
                line.as_str().unwrap_or_default()
            ));
        }
    }
    c.set_window_size(rect.2 as u32, rect.3 as u32)
        .await
        .unwrap();
    assert!(
        found.is_empty(),
        "axe-core (WCAG 2.2 AA) found violations on {url}:\n{}",
        found.join("\n")
    );
}
