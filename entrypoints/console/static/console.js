/* churn console: the API key for this tab, the X-API-Key header on every htmx request, CSV
   downloads that carry the header too, and a few conveniences. No inline script anywhere. */
(function () {
  "use strict";
  var KEY = "churn.apiKey";
  var pageKey = "";  // only where session storage is refused (some private modes): this page only

  function storedKey() {
    try { return window.sessionStorage.getItem(KEY) || pageKey; } catch (e) { return pageKey; }
  }
  function keysRequired() { return document.body.getAttribute("data-auth") === "key"; }
  function show(id, visible) {
    var el = document.getElementById(id);
    if (el) { el.hidden = !visible; }
  }
  function start() { document.body.dispatchEvent(new CustomEvent("console:ready")); }

  function askForKey(rejected) {
    show("key-panel", true);
    show("key-rejected", !!rejected);
    show("content", false);
    show("sign-out", false);
    var input = document.getElementById("key-input");
    if (input) { input.value = ""; input.focus(); }
  }

  document.addEventListener("htmx:configRequest", function (event) {
    var key = storedKey();
    if (key) { event.detail.headers["X-API-Key"] = key; }
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var xhr = event.detail.xhr;
    if (!xhr) { return; }
    var role = xhr.getResponseHeader("X-Console-Role");
    if (role) {
      document.body.setAttribute("data-role", role);
      var badge = document.getElementById("role-badge");
      var text = document.getElementById("role-text-" + role);
      if (badge && text && keysRequired()) { badge.textContent = text.textContent; badge.hidden = false; }
    }
    if (xhr.status === 401 && keysRequired()) {
      pageKey = "";
      try { window.sessionStorage.removeItem(KEY); } catch (e) { /* nothing kept */ }
      askForKey(true);
    }
  });

  function download(button) {
    var headers = {};
    var key = storedKey();
    if (key) { headers["X-API-Key"] = key; }
    button.disabled = true;
    fetch(button.getAttribute("data-download"), { headers: headers, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.blob();
      })
      .then(function (blob) {
        var link = document.createElement("a");
        link.href = URL.createObjectURL(blob);
        link.download = button.getAttribute("data-filename") || "export.csv";
        document.body.appendChild(link);
        link.click();
        setTimeout(function () { URL.revokeObjectURL(link.href); link.remove(); }, 1000);
      })
      .catch(function () { button.classList.add("failed"); })
      .finally(function () { button.disabled = false; });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-download]");
    if (button) { event.preventDefault(); download(button); }
  });

  document.addEventListener("keydown", function (event) {
    var input = event.target;
    if (event.key === "Enter" && input.matches && input.matches("[data-customer-jump]")) {
      event.preventDefault();
      var id = input.value.trim();
      if (id) { window.location.href = "/ui/customers/" + encodeURIComponent(id); }
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("key-form");
    if (form) {
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        var value = document.getElementById("key-input").value.trim();
        if (!value) { return; }
        try { window.sessionStorage.setItem(KEY, value); } catch (e) { pageKey = value; }
        show("key-panel", false);
        show("content", true);
        show("sign-out", true);
        start();
      });
    }
    var signOut = document.getElementById("sign-out");
    if (signOut) {
      signOut.addEventListener("click", function () {
        try { window.sessionStorage.removeItem(KEY); } catch (e) { /* nothing kept */ }
        window.location.reload();
      });
    }
    if (keysRequired() && !storedKey()) {
      askForKey(false);
    } else {
      show("sign-out", keysRequired());
      start();
    }
  });
})();
