// Reload the dashboard every data-refresh seconds, unless someone is typing in one of its forms
// (a reload would throw their text away): then wait for the next tick.
(function () {
  var root = document.getElementById("vigil-dashboard");
  if (!root) return;
  var seconds = parseInt(root.getAttribute("data-refresh"), 10);
  if (!seconds) return;
  function busy() {
    var active = document.activeElement;
    if (active && root.contains(active) && /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName)) return true;
    var fields = root.querySelectorAll("textarea, input[type=text]");
    for (var i = 0; i < fields.length; i++) if (fields[i].value) return true;
    return false;
  }
  setInterval(function () { if (!busy()) window.location.reload(); }, seconds * 1000);
})();
