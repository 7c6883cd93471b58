// Progressive enhancement for file uploads: drag and drop, and a progress bar per file.
// Without JavaScript the same forms post normally.
(function () {
  "use strict";
  function bar(list, file) {
    var row = document.createElement("li");
    var label = document.createElement("span");
    label.textContent = file.name + " ";
    var progress = document.createElement("progress");
    progress.max = file.size || 1;
    progress.value = 0;
    row.appendChild(label);
    row.appendChild(progress);
    list.appendChild(row);
    return progress;
  }
  function sendOne(form, file, progress) {
    return new Promise(function (resolve, reject) {
      var data = new FormData();
      data.append("csrf_token", form.querySelector("input[name=csrf_token]").value);
      data.append("role", form.querySelector("input[name=role]").value);
      data.append("files", file, file.name);
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.upload.onprogress = function (e) { if (e.lengthComputable) { progress.value = e.loaded; progress.max = e.total; } };
      // A refused file's bar gives way to a mark (a full bar would read as done).
      function refused() { progress.parentNode.classList.add("refused"); reject(xhr); }
      xhr.onload = function () { if (xhr.status >= 200 && xhr.status < 300) { resolve(xhr); } else { refused(); } };
      xhr.onerror = refused;
      xhr.send(data);
    });
  }
  // The report form of the page (`data-keep`) as loaded, to tell whether anything was typed.
  var typedAtLoad = null;
  function typed(form) {
    return new URLSearchParams(new FormData(form)).toString();
  }
  function keepTyped() {
    var form = document.querySelector("form[data-keep]");
    if (!form || typedAtLoad === null || form.querySelector("fieldset:disabled")) { return Promise.resolve(); }
    var now = typed(form);
    if (now === typedAtLoad) { return Promise.resolve(); }
    var body = new URLSearchParams(new FormData(form));
    body.set("action", "save");
    // getAttribute: the form's own `action` property is its button named "action".
    return fetch(form.getAttribute("action"), { method: "POST", body: body, credentials: "same-origin" }).then(function (res) {
      typedAtLoad = now;
      return res.ok;
    }, function () {
      // Not saved (offline a moment): the upload goes ahead; the page says what it took.
    });
  }
  function enhance(form) {
    var input = form.querySelector("input[type=file]");
    if (!input || !window.FormData || !window.Promise) { return; }
    var list = document.createElement("ul");
    list.className = "progress-list";
    form.appendChild(list);
    form.classList.add("dropzone");
    ["dragenter", "dragover"].forEach(function (ev) {
      form.addEventListener(ev, function (e) { e.preventDefault(); form.classList.add("dragging"); });
    });
    ["dragleave", "drop"].forEach(function (ev) {
      form.addEventListener(ev, function (e) { e.preventDefault(); form.classList.remove("dragging"); });
    });
    form.addEventListener("drop", function (e) {
      if (e.dataTransfer && e.dataTransfer.files.length) { input.files = e.dataTransfer.files; }
    });
    form.addEventListener("submit", function (e) {
      if (!input.files.length) { return; }
      e.preventDefault();
      var files = Array.prototype.slice.call(input.files);
      // What was typed in the page's report form and not saved yet is saved as the draft
      // first: the page shown after the upload is the draft's, and would not have it.
      // Whether that saved a draft: said on the page when the file is then refused (the page
      // shows no flash of the save, and the draft would otherwise appear unannounced).
      var keepForm = document.querySelector("form[data-keep]");
      var savedNote = keepForm && keepForm.getAttribute("data-saved-note");
      var savedNow = false;
      var chain = keepTyped().then(function (saved) { savedNow = saved === true; });
      files.forEach(function (file) {
        var progress = bar(list, file);
        chain = chain.then(function () { return sendOne(form, file, progress); });
      });
      // Show the server's last answer as a normal post would, without loading the page
      // again: after a success the page it redirected to (its file list and its flash, which
      // that request consumed), after a refusal the page with the reason. The page's main
      // part is swapped for the answer's.
      function show(xhr) {
        var doc = new DOMParser().parseFromString(xhr.responseText || "", "text/html");
        var fresh = doc.querySelector("main");
        var main = document.querySelector("main");
        if (!fresh || !main) {
          document.open();
          document.write(xhr.responseText || "");
          document.close();
          return;
        }
        main.replaceWith(document.adoptNode(fresh));
        document.title = doc.title;
        if (xhr.responseURL) { history.replaceState(null, "", xhr.responseURL); }
        fresh.querySelectorAll("form[data-upload]").forEach(enhance);
        // The page's other enhancements (「行を追加」, the print button …) on the fresh part.
        if (window.secportalEnhance) { window.secportalEnhance(fresh); }
        var kept = fresh.querySelector("form[data-keep]");
        typedAtLoad = kept && window.URLSearchParams ? typed(kept) : null;
        // After a refusal the bars stay under the form, to show which file it was; after a
        // success the file list and the flash say it, and the bars go.
        var again = fresh.querySelector("form[data-upload][action='" + form.getAttribute("action") + "']");
        if (again && !(xhr.status >= 200 && xhr.status < 300)) { again.appendChild(list); }
        if (savedNow && savedNote && !(xhr.status >= 200 && xhr.status < 300)) {
          var said = document.createElement("p");
          said.className = "flash";
          said.setAttribute("role", "status");
          said.textContent = savedNote;
          var h1 = fresh.querySelector("h1");
          if (h1) { h1.insertAdjacentElement("afterend", said); }
        }
        var told = fresh.querySelector(".error-summary, .form-error, .flash");
        if (told) { told.setAttribute("tabindex", "-1"); told.focus(); }
      }
      chain.then(show, show);
    });
  }
  var keep = document.querySelector("form[data-keep]");
  if (keep && window.URLSearchParams) { typedAtLoad = typed(keep); }
  document.querySelectorAll("form[data-upload]").forEach(enhance);
  // A file's 削除 (`data-keep-first`) reloads the page too: what was typed is saved first.
  // Delegated, as an upload swaps the page's main part for a fresh one.
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!window.Promise || !form.matches || !form.matches("form[data-keep-first]") || form.getAttribute("data-kept")) { return; }
    e.preventDefault();
    keepTyped().then(function () {
      form.setAttribute("data-kept", "1");
      form.submit();
    });
  });
})();
