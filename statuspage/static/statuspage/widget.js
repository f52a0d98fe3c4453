/* Vigil status widget. Embed with
 *   <script src="https://status.example.com/widget.js" async></script>
 * It shows the page's overall status as a small link to the page, after the script tag or in
 * the element matched by its data-target attribute, and refreshes it every minute. It reads the
 * public status JSON (CORS-enabled) and writes text only, never HTML. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !window.fetch) {
    return;
  }
  var origin = new URL(script.src, document.baseURI).origin;
  var colours = {none: "#2f9e44", minor: "#f08c00", major: "#e8590c", critical: "#e03131", maintenance: "#1c7ed6"};
  var selector = script.getAttribute("data-target");
  var host = selector ? document.querySelector(selector) : null;
  var link = document.createElement("a");
  link.className = "vigil-status-widget";
  link.href = origin + "/";
  link.rel = "noopener";
  link.style.display = "inline-flex";
  link.style.alignItems = "center";
  link.style.gap = "0.4em";
  link.style.font = "14px/1.4 system-ui, sans-serif";
  link.style.color = "inherit";
  link.style.textDecoration = "none";
  var dot = document.createElement("span");
  dot.setAttribute("aria-hidden", "true");
  dot.style.width = dot.style.height = "0.7em";
  dot.style.borderRadius = "50%";
  dot.style.background = "#868e96";
  var text = document.createElement("span");
  text.textContent = "Checking status…";
  link.appendChild(dot);
  link.appendChild(text);
  if (host) {
    host.appendChild(link);
  } else {
    script.parentNode.insertBefore(link, script.nextSibling);
  }

  function show(status) {
    var maintenance = /maintenance/i.test(status.description || "");
    var key = maintenance && status.indicator === "none" ? "maintenance" : status.indicator;
    dot.style.background = colours[key] || "#868e96";
    text.textContent = String(status.description || "Status unknown");
    link.setAttribute("data-indicator", String(status.indicator || ""));
  }

  function load() {
    fetch(origin + "/api/v2/status.json", {credentials: "omit"})
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (data) {
        show(data.status || {});
      })
      .catch(function () {
        text.textContent = "Status unavailable";
        link.setAttribute("data-indicator", "unknown");
      });
  }

  load();
  window.setInterval(load, 60000);
})();
