// The profile page's "Copy" buttons (the editor's "Add another" is static/portal/formset.js).
// A file rather than inline code, so a strict Content-Security-Policy can forbid inline scripts.
(function () {
  "use strict";

  function flash(button, label) {
    const original = button.dataset.label || button.textContent;
    button.dataset.label = original;
    button.textContent = label;
    setTimeout(function () { button.textContent = original; }, 1500);
  }

  function copy(button) {
    const text = document.querySelector(button.dataset.copyTarget).textContent;
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(
        function () { flash(button, "Copied"); },
        function () { flash(button, "Copy failed"); }
      );
      return;
    }
    // Plain http outside localhost has no clipboard API: copy through a hidden textarea.
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "absolute";
    area.style.left = "-9999px";
    document.body.appendChild(area);
    area.select();
    flash(button, document.execCommand("copy") ? "Copied" : "Copy failed");
    area.remove();
  }

  document.addEventListener("click", function (event) {
    const copyButton = event.target.closest("[data-copy-target]");
    if (copyButton) copy(copyButton);
  });
})();
