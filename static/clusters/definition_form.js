// The definition editor: ticking a role's "Elastic" shows its policy's fields and hides its Count,
// which an elastic role does not use. Without this script every field stays shown. A field with an
// error is never hidden, so the user sees what to fix.
(function () {
  "use strict";

  function show(role) {
    const box = role.querySelector("[data-elastic-switch]");
    if (!box) return;
    role.querySelectorAll("[data-shown-when-elastic]").forEach(function (part) {
      part.hidden = !box.checked && !part.querySelector(".is-invalid");
    });
    role.querySelectorAll("[data-shown-when-fixed]").forEach(function (part) {
      part.hidden = box.checked && !part.querySelector(".is-invalid");
    });
  }

  function showAll() {
    document.querySelectorAll(".role-form").forEach(show);
  }

  document.addEventListener("change", function (event) {
    if (event.target.matches("[data-elastic-switch]")) show(event.target.closest(".role-form"));
  });
  // formset.js adds the role on the same click, before this listener runs (it is loaded first).
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-formset-add]")) showAll();
  });
  showAll();
})();
