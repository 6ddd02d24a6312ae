// Live page parts, the htmx idea in a few lines (a file, so a strict Content-Security-Policy can
// forbid inline scripts). An element with data-live-url is refreshed from that URL: at once when it
// also has data-live-load, and every second while its content carries data-live-again.
// A form with data-live-target posts in the background and puts the answer into that target.
(function () {
  "use strict";
  const PERIOD_MS = 1000;
  const HEADERS = { "X-Requested-With": "fetch" };

  function swap(element, html) {
    element.innerHTML = html;
    schedule(element);
  }

  function schedule(element) {
    if (element.querySelector("[data-live-again]")) setTimeout(function () { load(element); }, PERIOD_MS);
  }

  function load(element) {
    fetch(element.dataset.liveUrl, { headers: HEADERS, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
      .then(function (html) { swap(element, html); })
      .catch(function () { setTimeout(function () { load(element); }, PERIOD_MS * 5); });
  }

  document.addEventListener("submit", function (event) {
    const form = event.target.closest("form[data-live-target]");
    if (!form) return;
    event.preventDefault();
    const target = document.querySelector(form.dataset.liveTarget);
    fetch(form.action, { method: "POST", body: new FormData(form), headers: HEADERS, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
      .then(function (html) { swap(target, html); })
      .catch(function () { form.submit(); });  // let the browser do it the plain way
  });

  document.querySelectorAll("[data-live-url]").forEach(function (element) {
    if (element.hasAttribute("data-live-load")) load(element);
    else schedule(element);
  });
})();
