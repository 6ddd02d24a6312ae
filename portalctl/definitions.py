"""portalctl definitions: list and show cluster definitions, make a role elastic or ask for spot
capacity (docs/elastic.md). A change is the definition's roles read with GET and sent back with
PATCH, so the portal checks it with the editor's rules and refuses it whole."""

from __future__ import annotations

import argparse
import json
import re

from portalctl.api import Api, CommandError, items


def definitions_list(api: Api, args) -> int:
    query = {"show": "public"} if args.public else None
    for definition in items(api.call("GET", "cluster-definitions/", query=query)):
        roles = ", ".join(f"{r['name']} × {_role_size(r)}" for r in definition.get("roles", []))
        print(f"{definition['id']}\t{definition['name']}\t{definition.get('visibility', '')}\t{roles}")
    return 0


def definitions_show(api: Api, args) -> int:
    definition = api.call("GET", f"cluster-definitions/{args.id}/")
    if args.json:
        print(json.dumps(definition, indent=2))
        return 0
    print(f"definition {definition['id']} {definition['name']} ({definition.get('visibility', '?')})")
    for role in definition.get("roles", []):
        print(f"  {role['name']}\t{_role_policy(role)}")
    return 0


def definitions_elastic(api: Api, args) -> int:
    """Make a role elastic or change its policy (what is not given stays), or --off: fixed again."""
    policy = {
        "jobs_per_worker": args.jobs_per_worker,
        "idle_seconds": args.idle,
        "cooldown_seconds": args.cooldown,
        "drain_deadline_seconds": args.drain_deadline,
    }
    given = {key: value for key, value in policy.items() if value is not None}
    if args.off and (given or args.min is not None or args.max is not None):
        raise CommandError("--off makes the role fixed: give only --count (and --spot) with it", code=2)
    if args.count is not None and not args.off:
        raise CommandError("an elastic role has no count: give --min and --max, or --off --count N", code=2)

    def change(role):
        if args.off:
            role["elastic"] = None
            if args.count is not None:
                role["count"] = args.count
        else:
            role["elastic"] = {**(role.get("elastic") or {}), **given}
            role["min"] = role.get("min", 0) if args.min is None else args.min
            role["max"] = role.get("max") if args.max is None else args.max
        if args.spot is not None:
            role["spot"] = args.spot

    return _change_role(api, args.id, args.role, change)


def definitions_spot(api: Api, args) -> int:
    return _change_role(api, args.id, args.role, lambda role: role.update(spot=args.choice == "on"))


def _change_role(api: Api, definition_id: int, name: str, change) -> int:
    """GET the definition, `change` its role `name` in place, PATCH the roles back: the portal
    checks the result with the editor's rules and refuses it whole."""
    definition = api.call("GET", f"cluster-definitions/{definition_id}/")
    roles = definition.get("roles", [])
    role = next((r for r in roles if r.get("name") == name), None)
    if role is None:
        known = ", ".join(r.get("name", "?") for r in roles) or "none"
        raise CommandError(f"definition {definition_id} has no role {name!r} (its roles: {known})")
    change(role)
    saved = api.call("PATCH", f"cluster-definitions/{definition_id}/", {"roles": roles})
    role = next(r for r in saved["roles"] if r["name"] == name)
    print(f"definition {saved['id']} role {name}: {_role_policy(role)}")
    return 0


def _role_size(role) -> str:
    if role.get("elastic"):
        return f"{role.get('min', 0)}–{role.get('max')}"
    return str(role.get("count", "?"))


def _role_policy(role) -> str:
    """ "elastic 0–20, 4 jobs per worker, drain after 600 s idle, cool-down 120 s, drain deadline
    3600 s, spot" or "fixed 3 (0–10)"."""
    policy = role.get("elastic")
    if policy:
        words = [
            f"elastic {_role_size(role)}",
            f"{policy.get('jobs_per_worker')} jobs per worker",
            f"drain after {policy.get('idle_seconds')} s idle",
            f"cool-down {policy.get('cooldown_seconds')} s",
            f"drain deadline {policy.get('drain_deadline_seconds')} s",
        ]
    else:
        most = role.get("max")
        words = [f"fixed {_role_size(role)} ({role.get('min', 0)}–{'any' if most is None else most})"]
    if role.get("spot"):
        words.append("spot")
    return ", ".join(words)


def duration(text: str) -> int:
    """Seconds from "600", "600s", "10m" or "1h" (an argparse type)."""
    found = re.fullmatch(r"\s*(\d{1,9})\s*(s|m|min|h)?\s*", text)
    if not found:
        raise argparse.ArgumentTypeError(f"expected seconds, or a number with s, m or h: {text!r}")
    return int(found[1]) * {None: 1, "s": 1, "m": 60, "min": 60, "h": 3600}[found[2]]


def add_parsers(topics) -> None:
    definitions = topics.add_parser("definitions", help="cluster definitions").add_subparsers(
        dest="action", required=True
    )
    listing = definitions.add_parser("list", help="your definitions")
    listing.add_argument("--public", action="store_true", help="and everyone's public ones")
    listing.set_defaults(run=definitions_list)
    show = definitions.add_parser("show", help="a definition's roles and their policies")
    show.add_argument("id", type=int, metavar="DEF_ID")
    show.add_argument("--json", action="store_true", help="the API's answer as it is")
    show.set_defaults(run=definitions_show)
    elastic = definitions.add_parser(
        "elastic",
        help="make a role elastic or change its policy; --off makes it fixed again",
        description="Times are seconds, or a number with s, m or h (10m). What is not given stays.",
    )
    elastic.add_argument("id", type=int, metavar="DEF_ID")
    elastic.add_argument("role", metavar="ROLE")
    elastic.add_argument("--min", type=int, metavar="N", help="the fewest instances (the launch starts here)")
    elastic.add_argument("--max", type=int, metavar="N", help="the most instances (needed)")
    elastic.add_argument("--jobs-per-worker", type=int, metavar="N", help="waiting jobs that make one worker")
    elastic.add_argument("--idle", type=duration, metavar="TIME", help="idle time before a worker is drained")
    elastic.add_argument("--cooldown", type=duration, metavar="TIME", help="least time between two changes")
    elastic.add_argument(
        "--drain-deadline", type=duration, metavar="TIME", help="a draining worker is terminated after this"
    )
    elastic.add_argument("--off", action="store_true", help="a fixed role again")
    elastic.add_argument("--count", type=int, metavar="N", help="with --off: the fixed role's count")
    elastic.add_argument(
        "--spot", action=argparse.BooleanOptionalAction, help="ask for spot capacity (or --no-spot)"
    )
    elastic.set_defaults(run=definitions_elastic)
    spot = definitions.add_parser("spot", help="ask for spot capacity for a role, or stop asking")
    spot.add_argument("id", type=int, metavar="DEF_ID")
    spot.add_argument("role", metavar="ROLE")
    spot.add_argument("choice", choices=["on", "off"])
    spot.set_defaults(run=definitions_spot)
