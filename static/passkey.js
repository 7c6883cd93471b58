// Passkeys and security keys (WebAuthn): registering one on the 2段階認証 page
// (form#passkey-register) and signing in with one at the second step (form#passkey-login).
// The server puts the challenge and the relying party in data attributes; this script asks
// the browser, fills the form's hidden fields (base64url) and posts it. Without WebAuthn (or
// without JavaScript) the page says so and posts nothing.
(function () {
  "use strict";
  function toB64(buf) {
    var bytes = new Uint8Array(buf), s = "";
    for (var i = 0; i < bytes.length; i++) { s += String.fromCharCode(bytes[i]); }
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function fromB64(text) {
    var s = text.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) { s += "="; }
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { out[i] = bin.charCodeAt(i); }
    return out;
  }
  function ids(list) {
    return (list || "").split(" ").filter(Boolean).map(function (id) {
      return { type: "public-key", id: fromB64(id) };
    });
  }
  function say(form, which) {
    var m = form.querySelector("#passkey-message");
    if (!m) { return; }
    m.textContent = m.getAttribute("data-" + which);
    m.hidden = false;
  }
  function set(form, name, value) {
    form.querySelector("input[name=" + name + "]").value = value;
  }
  function supported() {
    return !!(window.PublicKeyCredential && navigator.credentials && window.isSecureContext);
  }
  function register(form) {
    var d = form.dataset;
    return navigator.credentials.create({
      publicKey: {
        challenge: fromB64(d.challenge),
        rp: { id: d.rpId, name: d.rpName },
        user: { id: fromB64(d.userId), name: d.userName, displayName: d.userDisplay || d.userName },
        pubKeyCredParams: [{ type: "public-key", alg: -7 }, { type: "public-key", alg: -257 }],
        excludeCredentials: ids(d.exclude),
        authenticatorSelection: { residentKey: "preferred", userVerification: "preferred" },
        attestation: "none",
        timeout: 120000
      }
    }).then(function (cred) {
      set(form, "client_data", toB64(cred.response.clientDataJSON));
      set(form, "attestation", toB64(cred.response.attestationObject));
    });
  }
  function signIn(form) {
    var d = form.dataset;
    return navigator.credentials.get({
      publicKey: {
        challenge: fromB64(d.challenge),
        rpId: d.rpId,
        allowCredentials: ids(d.allow),
        userVerification: "preferred",
        timeout: 120000
      }
    }).then(function (cred) {
      set(form, "credential_id", toB64(cred.rawId));
      set(form, "client_data", toB64(cred.response.clientDataJSON));
      set(form, "authenticator_data", toB64(cred.response.authenticatorData));
      set(form, "signature", toB64(cred.response.signature));
    });
  }
  function enhance(form, ceremony) {
    if (!supported()) { say(form, "unsupported"); }
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      if (!supported()) { say(form, "unsupported"); return; }
      var button = form.querySelector("button[type=submit]");
      button.disabled = true;
      ceremony(form).then(function () {
        form.submit();
      }, function () {
        button.disabled = false;
        say(form, "cancelled");
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var reg = document.getElementById("passkey-register");
    if (reg) { enhance(reg, register); }
    var login = document.getElementById("passkey-login");
    if (login) { enhance(login, signIn); }
  });
})();
