#!/bin/sh
# Pair this machine with a Context Portal profile by PIN (docs/pairing.md).
#
#   sh pair.sh https://portal.example.org [--out FILE] [--format F] [--no-apply]
#
# 1. asks the portal for a PIN and prints it;
# 2. you open https://portal.example.org/pair/, type the PIN and choose a profile;
# 3. the user-data is written to FILE (default /var/lib/context-portal/user-data, mode 0600);
# 4. unless --no-apply, it is applied:
#    - a shell script (the `shell` format) is run with sh;
#    - cloud-init user-data is put in the NoCloud seed (/var/lib/cloud/seed/nocloud/) and
#      cloud-init runs again from scratch (`cloud-init clean`, then its stages);
#    - amiconfig user-data (CernVM) goes where CernVM's amiconfig.sh looks first,
#      /var/lib/amiconfig-online/2007-12-15/user-data, and `amiconfig.sh user --force` applies
#      it now (its sh part and its plugins); later boots find it there too.
#    Applying needs root; without it the file is written and the script says so.
#
# Needs only a POSIX sh and curl. PAIR_POLL_SECONDS sets the polling interval (default 3);
# AMICONFIG_ONLINE_DIR and AMICONFIG_SH name the amiconfig paths on an image that moved them.

set -eu

usage() {
    echo "usage: sh pair.sh PORTAL_URL [--out FILE] [--format cloud-init|amiconfig|shell] [--no-apply]" >&2
    exit 2
}

PORTAL=""
OUT=/var/lib/context-portal/user-data
FORMAT=""
APPLY=yes
INTERVAL="${PAIR_POLL_SECONDS:-3}"

while [ $# -gt 0 ]; do
    case "$1" in
        --out) [ $# -ge 2 ] || usage; OUT="$2"; shift 2 ;;
        --out=*) OUT="${1#--out=}"; shift ;;
        --format) [ $# -ge 2 ] || usage; FORMAT="$2"; shift 2 ;;
        --format=*) FORMAT="${1#--format=}"; shift ;;
        --no-apply) APPLY=no; shift ;;
        -h|--help) usage ;;
        -*) echo "pair.sh: unknown option $1" >&2; usage ;;
        *) [ -z "$PORTAL" ] || usage; PORTAL="${1%/}"; shift ;;
    esac
done
[ -n "$PORTAL" ] || usage
command -v curl >/dev/null 2>&1 || { echo "pair.sh: curl is needed" >&2; exit 1; }

BODY=$(mktemp)
trap 'rm -f "$BODY"' EXIT

# request METHOD URL [DATA]: the body goes to $BODY, the HTTP status to stdout (curl says "000"
# when there was no answer at all).
request() {
    if [ $# -ge 3 ]; then
        curl -sS -o "$BODY" -w '%{http_code}' -X "$1" -H 'Content-Type: application/json' \
            -H 'Accept: application/json' --data "$3" "$2" || :
    else
        curl -sS -o "$BODY" -w '%{http_code}' -H 'Accept: application/json' "$2" || :
    fi
}

# json_field NAME: a string field of the JSON in $BODY (the portal's answers are flat objects).
json_field() {
    tr -d '\n' <"$BODY" | sed -n "s/.*\"$1\" *: *\"\([^\"]*\)\".*/\1/p"
}

if [ -n "$FORMAT" ]; then DATA="{\"format\": \"$FORMAT\"}"; else DATA="{}"; fi
STATUS=$(request POST "$PORTAL/api/v1/pairing/" "$DATA")
if [ "$STATUS" = 000 ]; then
    echo "pair.sh: cannot reach the portal at $PORTAL" >&2
    exit 1
elif [ "$STATUS" = 429 ] || [ "$STATUS" = 503 ]; then
    # A limit or a short outage: the portal's message says how long to wait.
    DETAIL=$(json_field detail)
    echo "pair.sh: ${DETAIL:-the portal is busy (HTTP $STATUS); try again later.}" >&2
    exit 1
elif [ "$STATUS" != 201 ]; then
    echo "pair.sh: the portal refused to start pairing (HTTP $STATUS): $(json_field detail)" >&2
    exit 1
fi
PIN=$(json_field pin)
POLL_URL=$(json_field poll_url)
EXPIRES=$(json_field expires_at)
SPACED=$(echo "$PIN" | sed 's/./& /g; s/ $//')

cat <<EOF

  ============================================================

      PIN:   $SPACED

  ============================================================

  Open $PORTAL/pair/ , log in, type this PIN and choose a
  profile. The PIN works once and expires at $EXPIRES.
  Waiting for the pairing...

PIN: $PIN
EOF

FAILURES=0
while :; do
    STATUS=$(request GET "$POLL_URL")
    case "$STATUS" in
        200) break ;;
        202) FAILURES=0 ;;
        410)
            echo "pair.sh: $(json_field detail)" >&2
            echo "pair.sh: run pair.sh again for a new PIN." >&2
            exit 1 ;;
        404) echo "pair.sh: the portal does not know this pairing request." >&2; exit 1 ;;
        *)
            FAILURES=$((FAILURES + 1))
            echo "pair.sh: no answer from the portal (HTTP $STATUS); trying again" >&2
            if [ "$FAILURES" -ge 20 ]; then echo "pair.sh: giving up" >&2; exit 1; fi ;;
    esac
    sleep "$INTERVAL"
done

# The user-data may hold password hashes and keys: only root (or the caller) may read it.
umask 077
mkdir -p "$(dirname "$OUT")"
cp "$BODY" "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
echo "Paired: the user-data is in $OUT"

[ "$APPLY" = yes ] || exit 0
if [ "$(id -u)" != 0 ]; then
    echo "Not applied: run as root to apply it, or pass --no-apply to only fetch it." >&2
    exit 1
fi

# amiconfig user-data starts with `#!` too when it has an sh part: its [amiconfig] section tells.
if [ "$FORMAT" = amiconfig ] || grep -qx '\[amiconfig\]' "$OUT"; then
    AMI_DIR="${AMICONFIG_ONLINE_DIR:-/var/lib/amiconfig-online/2007-12-15}"
    AMI_SH="${AMICONFIG_SH:-/usr/sbin/amiconfig.sh}"
    if [ ! -x "$AMI_SH" ]; then
        echo "Not applied: $AMI_SH is missing, so this is no CernVM image (pair again with --format shell)." >&2
        exit 1
    fi
    mkdir -p "$AMI_DIR"
    cp "$OUT" "$AMI_DIR/user-data"
    echo "Applying with amiconfig ($AMI_DIR/user-data)..."
    # amiconfig.sh takes a context URL from the environment before looking in $AMI_DIR.
    (unset AMICONFIG_CONTEXT_URL AMICONFIG_LOCAL_USER_DATA && exec "$AMI_SH" user --force)
    echo "Applied."
    exit 0
fi

FIRST=$(sed -n 1p "$OUT")
case "$FIRST" in
    "#!"*)
        echo "Running the shell user-data..."
        exec sh "$OUT" ;;
    "#cloud-config"*|[Cc]ontent-[Tt]ype:*|[Mm][Ii][Mm][Ee]-[Vv]ersion:*)
        if ! command -v cloud-init >/dev/null 2>&1; then
            echo "Not applied: cloud-init is not installed (pair again with --format shell)." >&2
            exit 1
        fi
        SEED=/var/lib/cloud/seed/nocloud
        mkdir -p "$SEED"
        cp "$OUT" "$SEED/user-data"
        # A new instance id makes cloud-init treat this as a first boot.
        printf 'instance-id: paired-%s\nlocal-hostname: %s\n' "$PIN" "$(hostname)" >"$SEED/meta-data"
        echo "Applying with cloud-init (NoCloud seed in $SEED)..."
        cloud-init clean --logs
        cloud-init init --local
        cloud-init init
        cloud-init modules --mode config
        cloud-init modules --mode final
        echo "Applied." ;;
    *)
        echo "Written, not applied: $OUT is neither a script nor cloud-init or amiconfig user-data." >&2
        exit 1 ;;
esac
