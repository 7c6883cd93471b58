// The gateway-log page while a log is checked again with a newly saved column mapping
// (確認中): asks every 2 seconds whether the check has ended, then reloads the page to show
// the result — unless the clerk has typed into a form meanwhile, in which case it says the
// check is done instead of throwing the typing away. Without script, a link beside the
// message shows the latest state (no timed reload that would throw the typing away).
(function () {
  "use strict";
  var status = document.querySelector("[data-checking]");
  if (!status) { return; }
  var typed = false;
  document.addEventListener("input", function () { typed = true; });
  function poll() {
    fetch(status.getAttribute("data-checking"), {
      credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (res) {
      return res.ok ? res.json() : null;
    }).then(function (state) {
      if (state && state.checking === 0) {
        if (typed) {
          status.textContent = status.getAttribute("data-done");
        } else {
          window.location.reload();
        }
        return;
      }
      window.setTimeout(poll, 2000);
    }, function () {
      window.setTimeout(poll, 5000);
    });
  }
  window.setTimeout(poll, 2000);
})();
