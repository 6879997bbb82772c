#!/usr/bin/env bash
# The post-deploy check, against any deployed URL (the stack's ApiUrl output,
# with or without its trailing /api):
#
#   scripts/conformance.sh [--read-only] [--no-cors] URL
#
# Read-only checks first: a repeated GET /api/tags with If-None-Match gets a
# 304, GET /api/openapi.json is compatible with the RealWorld spec, and a CORS
# preflight from any origin is allowed (what CorsAllowOrigins "*", the
# default, allows; --no-cors skips it for a stack that allows fewer). Then, unless --read-only, the official RealWorld 2.0.0 Hurl suite,
# unmodified. THE SUITE WRITES: it registers users and creates articles,
# comments, follows and favorites (a fresh uid each run), which stay in the
# table. Run it against a stack whose data you can spare; production gets
# --read-only.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

READ_ONLY=false CORS=true
while [ $# -gt 1 ]; do
  case "$1" in
    --read-only) READ_ONLY=true ;;
    --no-cors) CORS=false ;;
    *) die "unknown option $1; usage: scripts/conformance.sh [--read-only] [--no-cors] URL" ;;
  esac
  shift
done
[ $# -eq 1 ] && [[ "$1" == http* ]] || die "usage: scripts/conformance.sh [--read-only] [--no-cors] URL"
ORIGIN="${1%/}"
ORIGIN="${ORIGIN%/api}"
SUITE="${REALWORLD_SUITE:-$ROOT/../shared/realworld}"
if [ ! -f "$SUITE/openapi.yml" ] && [ "${CI:-}" = true ]; then
  die "the RealWorld spec is required in CI: $SUITE/openapi.yml (set REALWORLD_SUITE to a copy of realworld's specs/api)"
fi

cargo build --quiet -p conduit-tests --bin conduit-dev
DEV="$ROOT/target/debug/conduit-dev"
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT

log "$ORIGIN: a repeated GET with If-None-Match gets a 304"
"$DEV" check-stack not-modified "$ORIGIN"

log "$ORIGIN: GET /api/openapi.json is compatible with the RealWorld spec"
status="$(curl -s -o "$OUT/openapi.json" -w '%{http_code}' --max-time 10 "$ORIGIN/api/openapi.json" || true)"
[ "$status" = 200 ] || die "GET /api/openapi.json: $status"
if [ -f "$SUITE/openapi.yml" ]; then
  REALWORLD_SUITE="$SUITE" "$DEV" check-openapi "$OUT/openapi.json"
else
  echo "SKIPPED: the comparison (the RealWorld spec is not at $SUITE/openapi.yml; see README, 'Conformance suite')"
fi

if [ "$CORS" = true ]; then
  log "$ORIGIN: CORS for a front end on another origin, preflight included"
  "$DEV" check-stack cors "$ORIGIN"
else
  log "$ORIGIN: CORS not checked (--no-cors)"
fi

if [ "$READ_ONLY" = true ]; then
  log "read-only checks passed; the Hurl suite was not run (--read-only)"
  exit 0
fi

[ -f "$SUITE/run-api-tests-hurl.sh" ] || die "the Hurl suite is not at $SUITE/run-api-tests-hurl.sh"
setup_hurl
log "$ORIGIN: the RealWorld 2.0.0 Hurl suite (it writes data)"
HOST="$ORIGIN" UID_VAL="$(date +%s)$$" bash "$SUITE/run-api-tests-hurl.sh"
log "every check passed against $ORIGIN"
