"""The shape of a cluster definition: roles and their dependencies (docs/launches.md).

Pure functions over plain role descriptions — {"name", "count", "depends_on", "offering"} — so
the editor, the launcher and the picture agree on one order and one set of rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import escape

ROLE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


class DefinitionError(ValueError):
    def __init__(self, messages: list[str]):
        super().__init__("; ".join(messages))
        self.messages = messages


@dataclass
class RoleShape:
    name: str
    count: int = 1  # at launch
    depends_on: list[str] = field(default_factory=list)
    label: str = ""  # e.g. the offering, shown in the picture
    needs_roles: set[str] = field(default_factory=set)  # roles its profile names (templates, MPI)
    uses_addresses: set[str] = field(default_factory=set)  # roles.<name> its profile's templates use
    most: int | None = None  # an elastic role's maximum: it grows from `count` up to this


def problems(roles: list[RoleShape]) -> list[str]:
    """Everything wrong with a set of roles, as messages; [] when it can launch."""
    found = []
    names = [r.name for r in roles]
    if not roles:
        found.append("a cluster needs at least one role")
    for name in names:
        if not ROLE_NAME.match(name):
            found.append(f"role {name!r}: use lower-case letters, digits and _ (starting with a letter)")
    for name in sorted({n for n in names if names.count(n) > 1}):
        found.append(f"role {name!r} is defined twice")
    known = set(names)
    for role in roles:
        for other in role.depends_on:
            if other not in known:
                found.append(f"role {role.name!r} depends on {other!r}, which is not a role of this cluster")
            elif other == role.name:
                found.append(f"role {role.name!r} depends on itself")
        for other in sorted(role.needs_roles - known):
            found.append(
                f"role {role.name!r}: its profile uses roles.{other}, which is not a role of this cluster"
            )
        # Its own address it always has (its host name); another role's only once that role runs.
        for other in sorted((role.uses_addresses & known) - {role.name} - set(role.depends_on)):
            found.append(
                f"role {role.name!r}: its profile uses the address of role {other} (roles.{other}), so it "
                f"must depend on {other}: add {other} to the roles it needs"
            )
    if not found:
        cycle = _cycle(roles)
        if cycle:
            found.append("the dependencies go round in a circle: " + " → ".join(cycle))
    return found


def launch_levels(roles: list[RoleShape]) -> list[list[str]]:
    """Roles grouped by launch wave: each wave depends only on earlier ones (sorted by name within)."""
    found = problems(roles)
    if found:
        raise DefinitionError(found)
    depends = {r.name: set(r.depends_on) for r in roles}
    done: set[str] = set()
    levels = []
    while len(done) < len(depends):
        wave = sorted(n for n, deps in depends.items() if n not in done and deps <= done)
        levels.append(wave)
        done.update(wave)
    return levels


def _cycle(roles: list[RoleShape]) -> list[str]:
    depends = {r.name: list(r.depends_on) for r in roles}
    state: dict[str, str] = {}
    path: list[str] = []

    def visit(name: str) -> list[str]:
        state[name] = "visiting"
        path.append(name)
        for other in depends.get(name, []):
            if state.get(other) == "visiting":
                return path[path.index(other) :] + [other]
            if other not in state:
                found = visit(other)
                if found:
                    return found
        state[name] = "done"
        path.pop()
        return []

    for name in sorted(depends):
        if name not in state:
            found = visit(name)
            if found:
                return found
    return []


BOX_W, BOX_H, GAP_X, GAP_Y, MARGIN = 170, 64, 70, 24, 16


def svg(roles: list[RoleShape]) -> str:
    """The topology picture: one column per launch wave, a box per role (name, count or an elastic
    role's range, label), an arrow from each role to the roles it depends on. Self-contained SVG, no
    external service."""
    try:
        levels = launch_levels(roles)
    except DefinitionError:
        levels = [[r.name for r in roles]]  # still draw something for a definition being fixed
    by_name = {r.name: r for r in roles}
    position = {}
    for column, wave in enumerate(levels):
        for row, name in enumerate(wave):
            position[name] = (MARGIN + column * (BOX_W + GAP_X), MARGIN + row * (BOX_H + GAP_Y))
    width = MARGIN * 2 + len(levels) * BOX_W + max(len(levels) - 1, 0) * GAP_X
    height = MARGIN * 2 + max((len(w) for w in levels), default=1) * (BOX_H + GAP_Y) - GAP_Y
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="topology" role="img" viewBox="0 0 {width} {height}" '
        # Its natural size, shrunk to fit narrow screens by the .topology class (no style= attribute:
        # the Content-Security-Policy forbids inline styles).
        f'width="{width}" height="{height}" aria-label="Cluster topology">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" '
        'markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#6c757d"/>'
        "</marker></defs>",
    ]
    for role in roles:
        for other in role.depends_on:
            if other in position and role.name in position:
                (x1, y1), (x2, y2) = position[role.name], position[other]
                parts.append(
                    f'<line class="dependency" data-from="{escape(role.name)}" data-to="{escape(other)}" '
                    f'x1="{x1}" y1="{y1 + BOX_H / 2}" x2="{x2 + BOX_W}" y2="{y2 + BOX_H / 2}" '
                    'stroke="#6c757d" stroke-width="1.5" marker-end="url(#arrow)"/>'
                )
    for name, (x, y) in position.items():
        role = by_name[name]
        size = f"{role.count}–{role.most}" if role.most is not None else str(role.count)
        parts.append(
            f'<g class="role" data-role="{escape(name)}"><rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" '
            'rx="8" fill="#e7f1ff" stroke="#0d6efd"/>'
            f'<text x="{x + 10}" y="{y + 24}" font-weight="bold" font-size="15">{escape(name)} × {size}</text>'
            f'<text x="{x + 10}" y="{y + 46}" font-size="12" fill="#495057">{escape(role.label)}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)
