"""Check-in with the portal (docs/launches.md): what every format adds when `render(..., checkin=...)` is given.

The VM gets `/usr/local/bin/portal-instance`, a small POSIX sh + curl client of the instance API,
and its token in a root-only file. The helper reads the token itself and hands it to curl as a
config on standard input (`curl -K -`), so the token is never on a command line (`ps` shows every
process's arguments to every user). The formats then call `portal-instance checkin booted` first
and `portal-instance checkin ready` (or `failed` with what failed) after everything else.

The helper keeps to what curl 7.29 (CernVM 4, EL7) understands and retries while the portal
cannot be reached, as the network may still be coming up when the user-data runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from contexts.render.common import File, RenderError, quote

HELPER_PATH = "/usr/local/bin/portal-instance"
TOKEN_PATH = "/etc/context-portal/instance.token"  # noqa: S105 (a path)
# What failed in this boot's run of the user-data, a line each (`portal-instance run`); under /run,
# so a later boot starts with none.
FAILED_PATH = "/run/context-portal/failed"

# Tokens go into a curl config line between double quotes: no quote, backslash or space may occur.
_TOKEN = re.compile(r"[A-Za-z0-9._~+/=-]{16,512}")
_URL = re.compile(r"https?://[^\s\"'\\]+")


@dataclass(frozen=True)
class Checkin:
    url: str  # the instance API's base, ending in "/": `<portal>/api/v1/instance/`
    token: str

    @classmethod
    def from_option(cls, option: dict) -> Checkin:
        """The `checkin` argument of `render`, checked: {"url": ..., "token": ...}."""
        if not isinstance(option, dict):
            raise RenderError("checkin must be a mapping with a url and a token")
        url, token = option.get("url"), option.get("token")
        if not isinstance(url, str) or not _URL.fullmatch(url):
            raise RenderError("checkin url must be an http or https URL without spaces or quotes")
        if not isinstance(token, str) or not _TOKEN.fullmatch(token):
            raise RenderError("checkin token must be 16 to 512 URL-safe characters")
        return cls(url.rstrip("/") + "/", token)

    def files(self) -> list[File]:
        """The token file (0600) and the helper (0700), both root's."""
        return [
            File(TOKEN_PATH, self.token + "\n", mode="0600", secret=True),
            File(HELPER_PATH, helper_script(self.url), mode="0700"),
        ]


def command(status: str) -> list[str]:
    return [HELPER_PATH, "checkin", status]


def run_command(label: str, argv: list[str]) -> list[str]:
    """`argv` run by the helper, which notes a failure under `label` and goes on."""
    return [HELPER_PATH, "run", label, *argv]


def finish_command() -> list[str]:
    """Check in `ready`, or `failed` naming what `run_command` saw fail."""
    return [HELPER_PATH, "finish"]


def helper_script(url: str) -> str:
    """`portal-instance` for the instance API at `url`; indented with spaces, so cloud-config can
    show it as a readable literal block (YAML block scalars may not start a line with a tab)."""
    return (
        _HELPER.replace("@API@", quote(url))
        .replace("@TOKEN_PATH@", TOKEN_PATH)
        .replace("@FAILED@", FAILED_PATH)
    )


_HELPER = r"""#!/bin/sh
# portal-instance: the client of Context Portal's instance API, written at first boot.
#   portal-instance checkin booted|ready|failed [MESSAGE]
#   portal-instance kv get KEY [--wait SECONDS]   print the value of KEY, waiting for it
#   portal-instance kv put KEY [VALUE]            publish VALUE (standard input when omitted)
#   portal-instance run LABEL COMMAND [ARG...]    run COMMAND; if it fails, note LABEL and go on
#   portal-instance finish                        check in ready, or failed naming what run noted
#   portal-instance report COLLECTOR [--once]     post `COLLECTOR collect` as the queue report every
#                                                 $PORTAL_REPORT_SECONDS (30) s; `COLLECTOR drain NAME`
#                                                 each worker the portal's answer names
# Exit status: 0 done, 1 failed or no such key, 2 bad usage. The token stays in a root-only file
# and reaches curl on its standard input, never on a command line.
set -eu
caller_umask=$(umask)
umask 077
API=@API@
TOKEN_FILE=@TOKEN_PATH@
FAILED_FILE=@FAILED@

die() {
    echo "portal-instance: $*" >&2
    exit 1
}

usage() {
    echo "usage: portal-instance checkin booted|ready|failed [MESSAGE]" >&2
    echo "       portal-instance kv get KEY [--wait SECONDS]" >&2
    echo "       portal-instance kv put KEY [VALUE]" >&2
    echo "       portal-instance run LABEL COMMAND [ARG...]" >&2
    echo "       portal-instance finish" >&2
    echo "       portal-instance report COLLECTOR [--once]" >&2
    exit 2
}

# request SECONDS METHOD PATH [CURL OPTION...]: the answer goes to $body; prints the HTTP status,
# 000 when the portal could not be reached.
request() {
    seconds=$1 method=$2 path=$3
    shift 3
    printf 'header = "Authorization: Instance %s"\n' "$token" |
        curl -q -sS -K - -X "$method" -o "$body" -w '%{http_code}' --connect-timeout 10 \
            --max-time "$seconds" "$@" "$API$path" || true
}

# call METHOD PATH [CURL OPTION...]: a request, repeated (60 times, 6 s apart) while the portal
# cannot be reached or is busy; an error answer is printed.
call() {
    method=$1 path=$2
    attempt=1
    while :; do
        status=$(request 60 "$@")
        case $status in
        000 | 429 | 5??) [ "$attempt" -lt 60 ] || break ;;
        *) break ;;
        esac
        attempt=$((attempt + 1))
        sleep 6
    done
    case $status in
    200 | 201) ;;
    000) die "$method $path: cannot reach $API" ;;
    *) die "$method $path: the portal answered $status: $(cat "$body")" ;;
    esac
}

# kv_get KEY SECONDS: the portal waits up to 30 s a request; ask again until SECONDS are spent.
kv_get() {
    remaining=$2
    while :; do
        chunk=$remaining
        [ "$chunk" -le 30 ] || chunk=30
        status=$(request $((chunk + 30)) GET "kv/$1?wait=$chunk" -H 'Accept: text/plain')
        case $status in
        200)
            cat "$body"
            return 0
            ;;
        404)
            [ "$remaining" -gt "$chunk" ] || die "no value for $1"
            remaining=$((remaining - chunk))
            ;;
        000 | 429 | 5??)
            [ "$remaining" -gt 5 ] || die "GET kv/$1: cannot reach $API (status $status)"
            sleep 5
            remaining=$((remaining - 5))
            ;;
        *) die "GET kv/$1: the portal answered $status: $(cat "$body")" ;;
        esac
    done
}

check_key() {
    case $1 in
    '' | . | .. | *[!A-Za-z0-9_.-]*) ;;
    *) [ "${#1}" -gt 128 ] || return 0 ;;
    esac
    echo "portal-instance: bad key '$1': use 1 to 128 of A-Z a-z 0-9 _ . - (not . or ..)" >&2
    exit 2
}

prepare() {
    command -v curl >/dev/null 2>&1 || die "curl is needed"
    token=$(cat "$TOKEN_FILE") || die "cannot read the token in $TOKEN_FILE (run as root)"
    body=$(mktemp)
    value=$(mktemp)
    trap 'rm -f "$body" "$value"' EXIT
}

checkin() {
    prepare
    call POST checkin --data-urlencode "status=$1" --data-urlencode "message=$2"
}

# report COLLECTOR ONCE: one report a period (a failed one is said and the next period tries again);
# the answer names the workers to drain, a line each, which the collector drains.
report() {
    prepare
    while :; do
        if "$1" collect >"$value"; then
            status=$(request 60 POST queue -H 'Content-Type: text/plain; charset=utf-8' \
                -H 'Accept: text/plain' --data-binary "@$value")
            if [ "$status" = 200 ]; then
                while IFS= read -r name || [ -n "$name" ]; do
                    case $name in
                    '' | *[!A-Za-z0-9.-]*) ;;
                    *) "$1" drain "$name" || echo "portal-instance: could not drain $name" >&2 ;;
                    esac
                done <"$body"
            else
                echo "portal-instance: queue report: the portal answered $status: $(cat "$body")" >&2
            fi
        else
            echo "portal-instance: $1 collect failed" >&2
        fi
        [ -z "$2" ] || return 0
        sleep "${PORTAL_REPORT_SECONDS:-30}"
    done
}

case ${1:-} in
checkin)
    case ${2:-} in booted | ready | failed) ;; *) usage ;; esac
    [ $# -le 3 ] || usage
    checkin "$2" "${3:-}"
    ;;
run)
    [ $# -ge 3 ] || usage
    label=$2
    shift 2
    status=0
    (umask "$caller_umask" && exec "$@") || status=$?
    if [ "$status" -ne 0 ]; then
        echo "portal-instance: $label failed with exit status $status" >&2
        mkdir -p "$(dirname "$FAILED_FILE")"
        printf '%s (exit %s)\n' "$label" "$status" >>"$FAILED_FILE"
    fi
    ;;
finish)
    [ $# -eq 1 ] || usage
    if [ -s "$FAILED_FILE" ]; then
        checkin failed "failed: $(awk 'NR > 1 { printf ", " } { printf "%s", $0 }' "$FAILED_FILE")"
    else
        checkin ready ""
    fi
    ;;
report)
    [ $# -eq 2 ] || { [ $# -eq 3 ] && [ "$3" = --once ]; } || usage
    report "$2" "${3:-}"
    ;;
kv)
    [ $# -ge 3 ] || usage
    check_key "$3"
    case $2 in
    get)
        [ $# -eq 3 ] || { [ $# -eq 5 ] && [ "$4" = --wait ]; } || usage
        case ${5:-0} in *[!0-9]*) usage ;; esac
        prepare
        kv_get "$3" "${5:-0}"
        ;;
    put)
        [ $# -le 4 ] || usage
        prepare
        if [ $# -eq 4 ]; then printf '%s' "$4" >"$value"; else cat >"$value"; fi
        call PUT "kv/$3" -H 'Content-Type: text/plain; charset=utf-8' --data-binary "@$value"
        ;;
    *) usage ;;
    esac
    ;;
*) usage ;;
esac
"""
