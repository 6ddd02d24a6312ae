// The cluster page's live part: refreshed every two seconds while the cluster is not terminated,
// except while the user is typing in it (a scale count), so no input is lost. Buttons with
// data-confirm ask first.
(function () {
  "use strict";
  const PERIOD_MS = 2000;
  const live = document.getElementById("cluster-live");

  function refresh() {
    if (!live.querySelector("[data-live-again]")) return;
    if (live.contains(document.activeElement) && document.activeElement.tagName === "INPUT") {
      setTimeout(refresh, PERIOD_MS);
      return;
    }
    fetch(live.dataset.liveUrl, { headers: { "X-Requested-With": "fetch" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
      .then(function (html) { live.innerHTML = html; setTimeout(refresh, PERIOD_MS); })
      .catch(function () { setTimeout(refresh, PERIOD_MS * 5); });
  }

  document.addEventListener("submit", function (event) {
    const button = event.submitter;
    if (button && button.dataset.confirm && !window.confirm(button.dataset.confirm)) event.preventDefault();
  });

  if (live) setTimeout(refresh, PERIOD_MS);
})();
