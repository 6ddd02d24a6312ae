"""The difference between two revisions, as the history page shows it: no secret ever appears.

Both sides are redacted; a secret whose stored ciphertext changed between the two revisions is
shown as "******** (changed)" on the newer side, so the change is visible but not its value.
"""

from __future__ import annotations

import difflib

from contexts.document import dump_yaml
from contexts.secrets import REDACTED, redact, secret_slots

CHANGED = f"{REDACTED} (changed)"


def _changed_secrets(older: dict, newer: dict) -> set[str]:
    before = {name: container[key] for container, key, name in secret_slots(older)}
    return {
        name
        for container, key, name in secret_slots(newer)
        if container[key] and before.get(name) and container[key] != before[name]
    }


def _shown(document: dict, changed: set[str]) -> str:
    shown = redact(document)
    for container, key, name in secret_slots(shown):
        if name in changed:
            container[key] = CHANGED
    return dump_yaml(shown)


def revision_diff(older, newer) -> list[tuple[str, str]]:
    """(css class, line) of the unified diff from revision `older` to `newer` (sealed documents)."""
    changed = _changed_secrets(older.document, newer.document)
    lines = difflib.unified_diff(
        _shown(older.document, set()).splitlines(),
        _shown(newer.document, changed).splitlines(),
        fromfile=f"revision {older.number}",
        tofile=f"revision {newer.number}",
        lineterm="",
    )
    return [(_css_class(line), line) for line in lines]


def _css_class(line: str) -> str:
    if line.startswith(("+++", "---")):
        return "fw-bold"
    if line.startswith("@@"):
        return "diff-hunk"
    return {"+": "diff-add", "-": "diff-del"}.get(line[:1], "")
