// "Add another" under a Django formset (the definition editor's roles, the profile editor's lists):
// the button data-formset-add="PREFIX" clones <template id="empty-PREFIX">, numbers the copy, adds it
// to [data-formset="PREFIX"] and counts it in the management form's TOTAL_FORMS. A file, so a strict
// Content-Security-Policy can forbid inline scripts.
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    const button = event.target.closest("[data-formset-add]");
    if (!button) return;
    const prefix = button.dataset.formsetAdd;
    const total = document.getElementById("id_" + prefix + "-TOTAL_FORMS");
    const list = document.querySelector('[data-formset="' + prefix + '"]');
    const blank = document.getElementById("empty-" + prefix).innerHTML;
    list.insertAdjacentHTML("beforeend", blank.replaceAll("__prefix__", total.value));
    total.value = Number(total.value) + 1;
    const first = list.lastElementChild.querySelector("input:not([type=hidden]), textarea, select");
    if (first) first.focus();
  });
})();
