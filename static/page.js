// Enhancements of a part of the page: run on the page at load, and again on a part swapped
// in without a reload (upload.js puts the answer's main part in place after an upload), as
// `window.secportalEnhance(root)`.
var secportalParts = [];
window.secportalEnhance = function (root) {
  secportalParts.forEach(function (f) { f(root); });
};
function secportalPart(f) {
  secportalParts.push(f);
  f(document);
}

// Keyboard access to what scrolls sideways: on a narrow screen a wide table scrolls inside
// its box (app.css), and a box that scrolls must take the focus so arrow keys can move it
// (WCAG 2.1.1). Such a box is made focusable and named after its table's heading while it
// overflows; at a width where it fits it is left alone.
(function () {
  "use strict";
  function heading(el) {
    var cap = el.querySelector("caption");
    if (cap) { return cap.textContent.trim(); }
    var node = el;
    while (node && node !== document.body) {
      var prev = node.previousElementSibling;
      while (prev) {
        if (/^H[1-6]$/.test(prev.tagName)) { return prev.textContent.trim(); }
        prev = prev.previousElementSibling;
      }
      node = node.parentElement;
    }
    return document.title;
  }
  function mark() {
    document.querySelectorAll("table, .scroll").forEach(function (el) {
      var scrolls = el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX !== "visible";
      if (scrolls && !el.hasAttribute("tabindex")) {
        el.setAttribute("tabindex", "0");
        el.setAttribute("data-scroll-focus", "");
        if (el.tagName !== "TABLE") {
          el.setAttribute("role", "region");
          el.setAttribute("aria-label", heading(el));
        }
      } else if (!scrolls && el.hasAttribute("data-scroll-focus")) {
        el.removeAttribute("tabindex");
        el.removeAttribute("data-scroll-focus");
        if (el.tagName !== "TABLE") {
          el.removeAttribute("role");
          el.removeAttribute("aria-label");
        }
      }
    });
  }
  secportalPart(mark);
  window.addEventListener("resize", mark);
})();

// A canned return reason chosen on the decision form goes into the reason box as text, to be
// edited there; the choice itself is then no longer sent (without JavaScript the server puts
// the chosen text before what was typed).
(function () {
  "use strict";
  secportalPart(function (root) {
    root.querySelectorAll("select[data-fill]").forEach(function (sel) {
      sel.addEventListener("change", function () {
        var opt = sel.options[sel.selectedIndex];
        var box = document.getElementById(sel.getAttribute("data-fill"));
        if (!box || !opt || !opt.hasAttribute("data-text")) { return; }
        var text = opt.getAttribute("data-text");
        box.value = box.value.trim() ? text + "\n\n" + box.value : text;
        sel.removeAttribute("name");
      });
    });
  });
})();

// A form that came back with errors: its summary takes the focus, so a screen reader starts
// from it and a keyboard user tabs on to the fields (the summary's `autofocus` asks for the
// same, but Chromium does not always honour it on a page answering a POST). A form shown
// again without errors: its heading (`data-return-here`) takes it.
(function () {
  "use strict";
  var summary = document.querySelector(".error-summary");
  var untouched = !document.activeElement || document.activeElement === document.body;
  if (summary && untouched) {
    summary.focus();
  } else if (untouched) {
    // A form shown again from its 確認 page (「戻って修正する」): the page opens at that form.
    var back = document.querySelector("[data-return-here]");
    if (back) { back.focus(); }
  }
})();

// A print button (`data-print`): hidden until this script shows it, as it needs JavaScript
// (the browser's own print command does the same without it).
(function () {
  "use strict";
  secportalPart(function (root) {
    root.querySelectorAll("button[data-print]").forEach(function (b) {
      b.hidden = false;
      b.addEventListener("click", function () { window.print(); });
    });
  });
})();

// 「行を追加」 (`data-add-row`, hidden until this script shows it): a blank row more in the
// rows table of its section, numbered after the last, without saving first (without
// JavaScript, saving the draft adds blank rows).
(function () {
  "use strict";
  secportalPart(function (root) {
    root.querySelectorAll("button[data-add-row]").forEach(function (b) {
      var section = b.closest("section");
      var body = section && section.querySelector("table.rows tbody");
      if (!body || !body.rows.length) { return; }
      b.hidden = false;
      b.addEventListener("click", function () {
        var last = body.rows[body.rows.length - 1];
        var named = last.querySelector("[name]");
        var m = named && named.getAttribute("name").match(/^([a-z]+)_(\d+)_/);
        if (!m) { return; }
        var prefix = m[1], old = parseInt(m[2], 10), n = old + 1;
        // The server reads this many rows: past it, saving adds pages of rows instead.
        var max = parseInt(b.getAttribute("data-add-row"), 10);
        if (max && n >= max) { b.disabled = true; return; }
        var row = last.cloneNode(true);
        row.className = "";
        row.querySelectorAll(".field-error, .status, br").forEach(function (e) { e.remove(); });
        row.querySelectorAll("[name], [id], [aria-label]").forEach(function (el) {
          if (el.hasAttribute("name")) {
            el.setAttribute("name", el.getAttribute("name").replace(prefix + "_" + old + "_", prefix + "_" + n + "_"));
          }
          if (el.id) { el.id = el.id.replace("-" + old + "-", "-" + n + "-"); }
          if (el.hasAttribute("aria-label")) {
            el.setAttribute("aria-label", el.getAttribute("aria-label").replace(new RegExp(" " + (old + 1) + "$"), " " + (n + 1)));
          }
          el.removeAttribute("aria-invalid");
          el.removeAttribute("aria-describedby");
          if (el.tagName === "SELECT") { el.selectedIndex = 0; } else if (el.tagName === "INPUT") { el.value = ""; }
        });
        if (row.cells.length) { row.cells[0].textContent = String(n + 1); }
        body.appendChild(row);
        row.querySelectorAll("select[data-other]").forEach(function (s) {
          s.dispatchEvent(new Event("change", { bubbles: true }));
        });
        var first = row.querySelector("input, select");
        if (first) { first.focus(); }
      });
    });
  });
})();

// A product chosen from the list needs no name typed: the name box beside the list
// (`data-other-box`) shows while その他 is chosen or while it holds text (without
// JavaScript it always shows, and a name typed beside a listed product is kept).
(function () {
  "use strict";
  function sync(sel) {
    var box = sel.parentElement && sel.parentElement.querySelector("[data-other-box]");
    if (!box) { return; }
    box.hidden = sel.value !== "other" && box.value.trim() === "";
  }
  secportalPart(function (root) {
    root.querySelectorAll("select[data-other]").forEach(sync);
  });
  document.addEventListener("change", function (e) {
    var t = e.target;
    if (t && t.matches && t.matches("select[data-other]")) { sync(t); }
  });
})();

// A form with data-confirm asks before it is sent (withdrawing a request, say); without
// JavaScript it is sent as it is.
(function () {
  "use strict";
  document.addEventListener("submit", function (e) {
    var f = e.target;
    if (f && f.matches && f.matches("form[data-confirm]") && !window.confirm(f.getAttribute("data-confirm"))) {
      e.preventDefault();
    }
  });
})();

// A 確認 page (of a one-step form, or of a workbook's import) is the answer to a post: once it
// has been sent on, the browser's Back would offer to send that post again (Chrome's "Confirm
// Form Resubmission", with the workbook too). Its history entry is made a plain address
// instead, so Back opens the form's page (a GET of a form's address answers with the page the
// form is on).
(function () {
  "use strict";
  if (document.querySelector("form[data-form-confirm], form[data-replace-history]") && window.history && window.history.replaceState) {
    window.history.replaceState(null, document.title, window.location.href);
  }
})();

// The language switch on a page with typed input not yet sent asks first: the page comes back
// in the other language as the server last had it, so what was typed would be lost. A form
// shown again with its errors counts as typed (its values are not stored yet either).
(function () {
  "use strict";
  var lang = document.querySelector("form.lang[data-unsaved]");
  if (!lang) { return; }
  var dirty = !!document.querySelector(".error-summary, .form-error");
  // Listened for on the document, not on each form: a page part swapped in after an upload
  // (upload.js) brings forms of its own.
  function posts(el) {
    var f = el && el.form;
    return f && f !== lang && (f.getAttribute("method") || "").toLowerCase() === "post";
  }
  ["input", "change"].forEach(function (ev) {
    document.addEventListener(ev, function (e) { if (posts(e.target)) { dirty = true; } });
  });
  // Sent (a file sent by upload.js saves what was typed first): nothing typed is left unsent.
  document.addEventListener("submit", function (e) {
    if (e.target !== lang) { dirty = false; }
  });
  lang.addEventListener("submit", function (e) {
    if (dirty && !window.confirm(lang.getAttribute("data-unsaved"))) { e.preventDefault(); }
  });
})();
