// The article page: a translation being drafted shows its progress until it is done (no reload: a form may be open).
(function () {
  "use strict";
  function poll(row) {
    fetch(row.dataset.statusUrl, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (state) {
        if (!state) { return; }
        row.querySelector(".verity-draft-label").textContent = state.label;
        var progress = row.querySelector(".verity-draft-progress");
        if (progress) { progress.textContent = state.status === "failed" ? state.error : state.progress; }
        if (state.status === "queued" || state.status === "running") { setTimeout(function () { poll(row); }, 3000); }
      })
      .catch(function () { setTimeout(function () { poll(row); }, 10000); });
  }
  document.querySelectorAll(".verity-translation-draft").forEach(function (row) {
    if (row.dataset.status === "queued" || row.dataset.status === "running") { setTimeout(function () { poll(row); }, 3000); }
  });
})();
