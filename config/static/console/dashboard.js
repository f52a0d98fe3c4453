// Refresh the dashboard's panels in place every data-refresh seconds: fetch the page again and
// swap each panel for its fresh copy. A panel someone is working in (focus in it, text typed, a
// form opened) is left alone until the next tick, so a refresh never throws their work away.
(function () {
  var root = document.getElementById("vigil-dashboard");
  if (!root) return;
  var seconds = parseInt(root.getAttribute("data-refresh"), 10);
  if (!seconds) return;
  var PANELS = "#vigil-overall, .module[id^='vigil-']";

  function busy(panel) {
    var active = document.activeElement;
    if (active && panel.contains(active) && /^(INPUT|TEXTAREA|SELECT|BUTTON)$/.test(active.tagName)) return true;
    if (panel.querySelector("details[open]")) return true;
    var fields = panel.querySelectorAll("textarea, input[type=text]");
    for (var i = 0; i < fields.length; i++) if (fields[i].value) return true;
    return false;
  }

  function swap(html) {
    var fresh = new DOMParser().parseFromString(html, "text/html");
    if (!fresh.getElementById("vigil-dashboard")) {
      // Signed out or no longer allowed: the full page says why.
      window.location.reload();
      return;
    }
    root.querySelectorAll(PANELS).forEach(function (panel) {
      var next = fresh.getElementById(panel.id);
      if (next && !busy(panel)) panel.replaceWith(document.importNode(next, true));
    });
  }

  function tick() {
    if (document.hidden) return;
    fetch(window.location.href, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) { if (html) swap(html); })
      .catch(function () { /* offline for a moment: the next tick tries again */ });
  }

  setInterval(tick, seconds * 1000);
  document.addEventListener("visibilitychange", tick);
})();
