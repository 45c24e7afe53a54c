// Follows a running forecast or customer-score run: polls its progress and reloads the page when it has finished.
// Sales runs report chunks and SKUs; customer-score runs report the stage they are in.
(function () {
  "use strict";
  var card = document.getElementById("run-progress");
  if (!card) {
    return;
  }
  var bar = card.querySelector(".progress");
  var fill = card.querySelector(".progress > span");
  var text = card.querySelector("[data-progress-text]");
  function poll() {
    fetch(card.dataset.progressUrl, { credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (run) {
        var percent = Math.round(run.progress * 100);
        fill.style.width = percent + "%";
        bar.setAttribute("aria-valuenow", String(percent));
        if (run.chunks_total !== undefined) {
          text.textContent = run.status + " · " + run.chunks_done + " of " + (run.chunks_total || "?") + " chunks · " +
            run.series_done + " SKUs";
        } else {
          text.textContent = run.status + " · " + percent + "%" + (run.stage ? " · " + run.stage : "");
        }
        if (run.status === "succeeded" || run.status === "failed") {
          window.location.reload();
        } else {
          window.setTimeout(poll, 1500);
        }
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 1000);
})();
