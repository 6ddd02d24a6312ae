"""portalctl: profiles, cluster definitions and clusters from the command line, through the REST API
only (docs/api.md).

    portalctl [--url URL] [--token TOKEN] profiles list|show|render|push ...
    portalctl [--url URL] [--token TOKEN] definitions list|show|elastic|spot ...
    portalctl [--url URL] [--token TOKEN] clusters list|launch|show|scale|retry|terminate ...

The URL and token come from --url/--token or PORTAL_URL/PORTAL_TOKEN (a token from the "API
tokens" page or `manage.py create_api_token USERNAME`). Run it installed (`portalctl`) or from a
checkout with `python -m portalctl`.

Exit codes: 0 done, 1 the API refused or the cluster failed or timed out, 2 a usage error.
Standard library only, so it runs on any machine with Python 3.11.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path

from portalctl import definitions
from portalctl.api import Api, ApiError, CommandError, items

__all__ = ["Api", "ApiError", "CommandError", "build_parser", "main"]

POLL_SECONDS = 2.0
BAR_WIDTH = 30
SETTLED_FAILURES = ("failed", "degraded")


# ---------------------------------------------------------------------------- profiles


def profiles_list(api: Api, args) -> int:
    for profile in items(api.call("GET", "profiles/")):
        print(
            f"{profile.get('id')}\t{profile.get('name')}\t{profile.get('visibility', '')}\t"
            f"revision {profile.get('revision', '?')}"
        )
    return 0


def profiles_show(api: Api, args) -> int:
    print(json.dumps(api.call("GET", f"profiles/{args.id}/"), indent=2))
    return 0


def profiles_render(api: Api, args) -> int:
    query = {"var": args.var}
    if args.format:
        query["format"] = args.format
    sys.stdout.flush()
    sys.stdout.buffer.write(api.call("GET", f"profiles/{args.id}/render/", query=query, raw=True))
    sys.stdout.buffer.flush()
    return 0


def profiles_push(api: Api, args) -> int:
    document = _read_document(Path(args.file))
    body = document if "document" in document else {"document": document}
    if args.id is not None:
        current = api.call("GET", f"profiles/{args.id}/")
        merged = {key: current[key] for key in ("name", "visibility", "tags") if key in current}
        merged.update(body)
        if args.name:
            merged["name"] = args.name
        answer = api.call("PUT", f"profiles/{args.id}/", merged)
    else:
        body.setdefault("name", args.name or Path(args.file).stem)
        if args.name:
            body["name"] = args.name
        answer = api.call("POST", "profiles/", body)
    print(f"{answer.get('id')}\t{answer.get('name')}\trevision {answer.get('revision')}")
    return 0


def _read_document(path: Path) -> dict:
    """A profile from a YAML or JSON file (YAML needs PyYAML; JSON is YAML too)."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror or exc}", code=2)
    try:
        data = json.loads(text)
    except ValueError:
        try:
            import yaml
        except ImportError:
            raise CommandError(f"{path} is not JSON, and reading YAML needs PyYAML (pip install pyyaml)", 2)
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise CommandError(f"{path} is not valid YAML: {exc}", code=2)
    if not isinstance(data, dict):
        raise CommandError(f"{path} must hold a mapping (a profile document)", code=2)
    return data


# ---------------------------------------------------------------------------- clusters


def clusters_list(api: Api, args) -> int:
    for cluster in items(api.call("GET", "clusters/")):
        print(
            f"{cluster['id']}\t{cluster['name']}\t{cluster['state']}\t{cluster.get('up', '?')}/"
            f"{cluster.get('wanted', '?')} up"
        )
    return 0


def clusters_launch(api: Api, args) -> int:
    body = {"definition": args.definition, "name": args.name or _default_name(api, args.definition)}
    if args.cloud is not None:
        body["cloud"] = args.cloud
    if args.place:
        body["placement"] = dict(_pairs(args.place, int, "--place ROLE=CLOUD_ID"))
    if "cloud" not in body and "placement" not in body:
        raise CommandError("name a cloud with --cloud ID (or --place ROLE=CLOUD_ID)", code=2)
    cluster = api.call("POST", "clusters/", body)
    for warning in cluster.get("warnings") or ():
        print(f"portalctl: warning: {warning}", file=sys.stderr)
    print(cluster["id"])
    print(f"launching cluster {cluster['id']} ({cluster['name']})", file=sys.stderr)
    if not args.wait:
        return 0
    return _wait(api, cluster["id"], args.timeout, done=_all_up, failed=_launch_failed)


def clusters_show(api: Api, args) -> int:
    cluster = api.call("GET", f"clusters/{args.id}/")
    if args.json:
        print(json.dumps(cluster, indent=2))
        return 0
    print(
        f"cluster {cluster['id']} {cluster['name']}: {cluster['state']}, {cluster.get('up')}/"
        f"{cluster.get('wanted')} instances up"
    )
    if cluster.get("usage"):  # a portal older than costs answers without it
        print(_usage_line(cluster["usage"]))
    for i in cluster.get("instances", []):
        addresses = ",".join(i.get("public_ips") or i.get("private_ips") or []) or "-"
        line = f"  {i['role']}-{i['index']}\t{i['state']}\t{i.get('node_id') or '-'}\t{addresses}"
        print(line + (f"\t{i['error']}" if i.get("error") else ""))
    return 0


def _usage_line(usage: dict) -> str:
    """One line: hours, cost so far and the rate, and the budgets when set (docs/costs.md)."""
    line = (
        f"usage: {usage['instance_hours']:.1f} instance-hours, {usage['core_hours']:.1f} core-hours, "
        f"cost {usage['cost']} ({usage['hourly_rate']} an hour)"
    )
    budgets = [
        f"{usage[key]} {unit}"
        for key, unit in (("budget_per_day", "a day"), ("budget_total", "in total"))
        if usage.get(key) is not None
    ]
    return line + (f"; budget {', '.join(budgets)}" if budgets else "; no budget")


def clusters_scale(api: Api, args) -> int:
    cluster = api.call("POST", f"clusters/{args.id}/scale/", {"role": args.role, "count": args.count})
    print(f"cluster {cluster['id']}: role {args.role} scaled to {args.count} ({cluster['state']})")
    return 0


def clusters_retry(api: Api, args) -> int:
    cluster = api.call("POST", f"clusters/{args.id}/retry/")
    print(f"cluster {cluster['id']}: retrying {cluster.get('retried', 0)} failed instances")
    return 0


def clusters_terminate(api: Api, args) -> int:
    cluster = api.call("POST", f"clusters/{args.id}/terminate/")
    print(f"cluster {cluster['id']}: {cluster['state']}", file=sys.stderr)
    if not args.wait:
        return 0
    return _wait(
        api,
        cluster["id"],
        args.timeout,
        done=lambda c: c["state"] == "terminated",
        failed=lambda c: None,
        counted="terminated",
    )


def _all_up(cluster) -> bool:
    return cluster["state"] == "running" and cluster.get("up") == cluster.get("wanted")


def _launch_failed(cluster) -> str | None:
    if cluster["state"] in SETTLED_FAILURES or cluster["state"].startswith("terminat"):
        errors = [
            f"{i['role']}-{i['index']}: {i['error']}" for i in cluster.get("instances", []) if i.get("error")
        ]
        return f"cluster {cluster['id']} is {cluster['state']}" + (
            ": " + "; ".join(errors[:5]) if errors else ""
        )
    return None


def _wait(api: Api, cluster_id, timeout: float, *, done, failed, counted="running") -> int:
    """Poll the cluster until `done` or `failed` says so, with a progress bar on stderr."""
    deadline = time.monotonic() + timeout
    bar = ProgressBar(sys.stderr, counted)
    while True:
        cluster = api.call("GET", f"clusters/{cluster_id}/")
        bar.show(cluster)
        if done(cluster):
            bar.end()
            return 0
        problem = failed(cluster)
        if problem:
            bar.end()
            raise CommandError(problem)
        if time.monotonic() > deadline:
            bar.end()
            raise CommandError(f"cluster {cluster_id} is still {cluster['state']} after {timeout:g} s")
        time.sleep(POLL_SECONDS)


class ProgressBar:
    """`[#######.......] 3/21 running (launching)`: redrawn in place on a terminal, a line per
    change otherwise (logs, CI)."""

    def __init__(self, stream, counted: str):
        self.stream, self.counted, self.last = stream, counted, None
        self.redraw = stream.isatty()

    def show(self, cluster) -> None:
        instances = cluster.get("instances", [])
        if self.counted == "terminated":
            total = len(instances)
            count = sum(1 for i in instances if i["state"] == "terminated")
        else:
            total, count = cluster.get("wanted", 0), cluster.get("up", 0)
        filled = round(BAR_WIDTH * count / total) if total else BAR_WIDTH
        line = f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {count}/{total} {self.counted} ({cluster['state']})"
        if line == self.last:
            return
        self.stream.write(("\r" + line) if self.redraw else line + "\n")
        self.stream.flush()
        self.last = line

    def end(self) -> None:
        if self.redraw and self.last:
            self.stream.write("\n")
            self.stream.flush()


def _default_name(api: Api, definition_id: int) -> str:
    """The definition's name as a host-name label (what the launch page suggests)."""
    name = api.call("GET", f"cluster-definitions/{definition_id}/").get("name", "")
    label = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")
    label = re.sub(r"^[^a-z]+", "", label)[:40].strip("-")
    return label or "cluster"


def _pairs(values, convert, usage):
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or not key:
            raise CommandError(f"expected {usage}, got {value!r}", code=2)
        try:
            yield key, convert(rest)
        except ValueError:
            raise CommandError(f"expected {usage}, got {value!r}", code=2)


# ---------------------------------------------------------------------------- parsing


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="portalctl", description="Context Portal from the command line.")
    parser.add_argument("--url", default=os.environ.get("PORTAL_URL"), help="the portal (env PORTAL_URL)")
    parser.add_argument(
        "--token", default=os.environ.get("PORTAL_TOKEN"), help="API token (env PORTAL_TOKEN)"
    )
    topics = parser.add_subparsers(dest="topic", required=True, metavar="{profiles,definitions,clusters}")

    profiles = topics.add_parser("profiles", help="context profiles").add_subparsers(
        dest="action", required=True
    )
    profiles.add_parser("list", help="your profiles").set_defaults(run=profiles_list)
    show = profiles.add_parser("show", help="a profile as JSON")
    show.add_argument("id", type=int)
    show.set_defaults(run=profiles_show)
    render = profiles.add_parser("render", help="print a profile's user-data")
    render.add_argument("id", type=int)
    render.add_argument("--format", help="cloud-init, shell, ... (the profile's default otherwise)")
    render.add_argument("--var", action="append", default=[], metavar="KEY=VALUE", help="a template variable")
    render.set_defaults(run=profiles_render)
    push = profiles.add_parser("push", help="create a profile from a file, or a new revision of --id")
    push.add_argument("file", metavar="FILE.yaml")
    push.add_argument("--name")
    push.add_argument("--id", type=int, help="make a new revision of this profile")
    push.set_defaults(run=profiles_push)

    definitions.add_parsers(topics)

    clusters = topics.add_parser("clusters", help="launched clusters").add_subparsers(
        dest="action", required=True
    )
    clusters.add_parser("list", help="your clusters").set_defaults(run=clusters_list)
    launch = clusters.add_parser("launch", help="launch a cluster definition; prints the cluster id")
    launch.add_argument("definition", type=int, metavar="DEF_ID")
    launch.add_argument("--cloud", type=int, help="the cloud every role runs on")
    launch.add_argument(
        "--place", action="append", default=[], metavar="ROLE=CLOUD_ID", help="a role on another cloud"
    )
    launch.add_argument("--name", help="the cluster's name (default: the definition's)")
    _wait_options(launch, "wait until every instance runs")
    launch.set_defaults(run=clusters_launch)
    show = clusters.add_parser("show", help="a cluster and its instances")
    show.add_argument("id", type=int)
    show.add_argument("--json", action="store_true", help="the API's answer as it is")
    show.set_defaults(run=clusters_show)
    scale = clusters.add_parser("scale", help="set the number of instances of a role")
    scale.add_argument("id", type=int)
    scale.add_argument("role")
    scale.add_argument("count", type=int)
    scale.set_defaults(run=clusters_scale)
    retry = clusters.add_parser("retry", help="launch the failed instances again")
    retry.add_argument("id", type=int)
    retry.set_defaults(run=clusters_retry)
    terminate = clusters.add_parser("terminate", help="destroy every node of a cluster")
    terminate.add_argument("id", type=int)
    _wait_options(terminate, "wait until every node is gone")
    terminate.set_defaults(run=clusters_terminate)
    return parser


def _wait_options(parser, help_text: str) -> None:
    parser.add_argument("--wait", action="store_true", help=help_text)
    parser.add_argument(
        "--timeout", type=float, default=600, metavar="S", help="give up waiting after S seconds"
    )


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # exits 2 on a usage error
    if not args.url or not args.token:
        parser.error("give the portal's --url and --token (or set PORTAL_URL and PORTAL_TOKEN)")
    try:
        return args.run(Api(args.url, args.token), args)
    except CommandError as exc:
        print(f"portalctl: error: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print("portalctl: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
