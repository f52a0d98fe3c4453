// Optional polish; the page works without it. Shows times in the visitor's zone and lets the
// keyboard move along the uptime bars with the arrow keys (one tab stop per component).
(function () {
  var fmt = { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", timeZoneName: "short" };
  document.querySelectorAll("time[data-local]").forEach(function (el) {
    var when = new Date(el.getAttribute("datetime"));
    if (!isNaN(when)) {
      el.title = el.textContent;
      el.textContent = when.toLocaleString(undefined, fmt);
    }
  });
  document.querySelectorAll("[data-bars]").forEach(function (list) {
    var bars = Array.prototype.slice.call(list.children);
    bars.forEach(function (bar, i) { bar.tabIndex = i === bars.length - 1 ? 0 : -1; });
    list.addEventListener("keydown", function (event) {
      var i = bars.indexOf(document.activeElement);
      if (i < 0) return;
      var next = event.key === "ArrowLeft" ? i - 1 : event.key === "ArrowRight" ? i + 1 : -1;
      if (next < 0 || next >= bars.length) return;
      event.preventDefault();
      bars[i].tabIndex = -1;
      bars[next].tabIndex = 0;
      bars[next].focus();
    });
  });
})();
