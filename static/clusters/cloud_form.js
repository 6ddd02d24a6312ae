// The cloud form: a cloud served by a gateway agent asks for no credentials (they live in the
// agent's agent.toml), so ticking "Served by a gateway agent" hides the credential fields.
(function () {
  "use strict";
  const box = document.querySelector("input[name=served_by_agent]");
  const credentials = document.querySelector("[data-agent-hides]");
  if (!box || !credentials) return;
  function show() { credentials.hidden = box.checked; }
  box.addEventListener("change", show);
  show();
})();
