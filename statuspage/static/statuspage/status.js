// Optional polish; the page works without it.
(function () {
  var fmt = { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", timeZoneName: "short" };

  // Times in the visitor's zone.
  function localTimes(root) {
    root.querySelectorAll("time[data-local]").forEach(function (el) {
      var when = new Date(el.getAttribute("datetime"));
      if (!isNaN(when)) {
        el.title = el.textContent;
        // In the page's language (the visitor's pick), not only the browser's.
        el.textContent = when.toLocaleString(document.documentElement.lang || undefined, fmt);
      }
    });
  }
  localTimes(document);

  // The language picker works as a plain form; with scripts it changes on selection.
  document.querySelectorAll("form[data-language-picker]").forEach(function (form) {
    var select = form.querySelector("select");
    var button = form.querySelector("button");
    if (!select || !button) return;
    button.hidden = true;
    select.addEventListener("change", function () { form.submit(); });
  });

  // Live updates. The page polls a small status document (a 304 when nothing changed); when its
  // version moves on, the page fetches its own URL again and swaps the regions marked data-live,
  // so what it shows is always what the server renders.
  var body = document.body;
  var pollUrl = body.getAttribute("data-live-url");
  var version = body.getAttribute("data-live-version");
  var seconds = parseInt(body.getAttribute("data-live-poll"), 10);
  var streamUrl = body.getAttribute("data-live-stream");
  if (!pollUrl || !version || !seconds || !window.fetch || !window.DOMParser) return;
  var failures = 0;
  var timer = null;
  var refreshing = false;

  function openGroups() {
    var open = {};
    document.querySelectorAll("[data-live] details").forEach(function (el) {
      var summary = el.querySelector("summary");
      if (summary) open[summary.textContent.trim()] = el.open;
    });
    return open;
  }

  function swap(html) {
    var fresh = new DOMParser().parseFromString(html, "text/html");
    var wasOpen = openGroups();
    document.querySelectorAll("[data-live]").forEach(function (old) {
      var next = fresh.querySelector('[data-live="' + old.getAttribute("data-live") + '"]');
      if (!next) return;
      next = document.importNode(next, true);
      next.querySelectorAll("details").forEach(function (el) {
        var summary = el.querySelector("summary");
        var name = summary && summary.textContent.trim();
        if (name && name in wasOpen) el.open = wasOpen[name];
      });
      localTimes(next);
      old.replaceWith(next);
    });
    var freshVersion = fresh.body && fresh.body.getAttribute("data-live-version");
    if (freshVersion) version = freshVersion;
  }

  function refresh() {
    if (refreshing) return;
    refreshing = true;
    fetch(window.location.pathname + window.location.search, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) { if (html) swap(html); })
      .catch(function () {})
      .then(function () { refreshing = false; });
  }

  function seen(doc) {
    if (doc && doc.version && doc.version !== version) refresh();
  }

  function schedule() {
    clearTimeout(timer);
    // Backs off while the server does not answer (the static copy has no live document).
    timer = setTimeout(poll, seconds * 1000 * Math.min(16, Math.pow(2, failures)));
  }

  function poll() {
    if (document.hidden) return; // picked up again by visibilitychange
    fetch(pollUrl, { cache: "no-store", credentials: "omit", headers: { "If-None-Match": 'W/"' + version + '"' } })
      .then(function (response) {
        if (response.status === 304) return null;
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      })
      .then(function (doc) { failures = 0; seen(doc); })
      .catch(function () { failures += 1; })
      .then(schedule);
  }

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && !stream) poll();
  });

  var stream = null;
  if (streamUrl && window.EventSource) {
    stream = new EventSource(streamUrl);
    stream.addEventListener("status", function (event) {
      try { seen(JSON.parse(event.data)); } catch (e) { /* a broken event: the next one will do */ }
    });
    stream.addEventListener("error", function () {
      // The browser reconnects by itself after a normal end; a refused stream falls back to polling.
      if (stream.readyState === EventSource.CLOSED) { stream = null; schedule(); }
    });
  } else {
    schedule();
  }
})();
