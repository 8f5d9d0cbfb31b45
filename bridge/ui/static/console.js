// Live job progress: every element with data-progress polls its job's figures once a
// second until the job has finished, and writes them into its [data-field] children.
// Once finished, notes marked data-when-finished appear (the job's errors need a reload).
// Without JavaScript the page shows the figures of the moment it was loaded.
(function () {
  "use strict";
  function poll(box) {
    fetch(box.dataset.progress, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (answer) { if (!answer.ok) { throw new Error(answer.status); } return answer.json(); })
      .then(function (figures) {
        box.querySelectorAll("[data-field]").forEach(function (cell) {
          var value = figures[cell.dataset.field];
          if (value === undefined) { return; }
          cell.textContent = String(value);  // text, never markup
          if (cell.dataset.field === "status") { cell.className = "status " + value; }
        });
        box.dataset.finished = figures.finished ? "yes" : "no";
        if (!figures.finished) { setTimeout(function () { poll(box); }, 1000); return; }
        document.querySelectorAll("[data-when-finished]").forEach(function (note) { note.hidden = false; });
      })
      .catch(function () { setTimeout(function () { poll(box); }, 5000); });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-progress][data-finished=no]").forEach(poll);
  });
})();
