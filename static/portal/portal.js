// Behaviour any page may use, next to htmx (static/vendor/htmx), which refreshes the pages' live
// parts. A file rather than inline code, so a strict Content-Security-Policy can forbid inline scripts.
(function () {
  "use strict";

  // A submit button with data-confirm asks first (terminating a cluster).
  document.addEventListener("submit", function (event) {
    const button = event.submitter;
    if (button && button.dataset.confirm && !window.confirm(button.dataset.confirm)) event.preventDefault();
  });

  // A live part is not refreshed while the user is in one of its fields (a scale count): the swap
  // would lose what was typed. The polling goes on, and the next refresh comes when the field is left.
  document.addEventListener("htmx:beforeRequest", function (event) {
    const field = document.activeElement;
    const detail = event.detail;
    if (detail.requestConfig.verb === "get" && field && field.matches("input, select, textarea")
        && detail.target.contains(field)) {
      event.preventDefault();
    }
  });

  // A form htmx could not post (an error answer, or none) is posted the plain way, so the user sees
  // what the server says (a refused CSRF token, a server error) instead of nothing.
  function postPlainly(event) {
    const form = event.detail.elt;
    if (form.tagName === "FORM") form.submit();
  }
  document.addEventListener("htmx:responseError", postPlainly);
  document.addEventListener("htmx:sendError", postPlainly);
})();
