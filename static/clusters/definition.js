// The definition editor's "Add another role": clone the blank role and count it in the formset.
// A file rather than inline code, so a strict Content-Security-Policy can forbid inline scripts.
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
    list.lastElementChild.querySelector("input:not([type=hidden]), select").focus();
  });
})();
