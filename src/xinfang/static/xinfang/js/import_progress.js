/* The import run's progress bar: while the run is queued or running, poll its JSON every two
   seconds and update the bar and counts; reload the page once it has finished (to show the
   rejected rows and the buttons).  A file, not inline script: the Content-Security-Policy. */
(function () {
  "use strict";
  var box = document.getElementById("import-progress");
  if (!box || !box.getAttribute("data-running") || !window.fetch) { return; }
  var url = box.getAttribute("data-url");
  function set(id, value) {
    var el = document.getElementById(id);
    if (el) { el.textContent = value; }
  }
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (run) {
        document.getElementById("import-bar").value = run.percent;
        set("import-percent", run.percent + "%");
        set("import-status", run.status_label);
        ["total", "processed", "imported", "skipped", "rejected"].forEach(function (k) { set("import-" + k, run[k]); });
        if (run.finished || (run.status !== "queued" && run.status !== "running")) {
          window.location.reload();
        } else {
          window.setTimeout(poll, 2000);
        }
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 1000);
})();
