#!/usr/bin/env bash
# The load test (README, "Load test"). With no --target it brings up the
# local stack itself (DynamoDB Local, every function under cargo lambda with
# concurrent instances, the gateway), runs, and tears it down; with
# --target URL it runs against a deployed stack instead. It runs the mix,
# then the viral scenario, checks every invariant through the API, and
# ends with "N passed, M failed" (its exit status: 0 only if none failed).
#
#   scripts/load.sh [--target URL] [--rate N] [--duration S] [--viral N] [--users N]
#
# Everything runs as release builds (LAMBDA_PROFILE=debug for the test
# command's): on this machine's 2 cores, debug functions' CPU would crowd out
# DynamoDB Local's. Locally each function runs LAMBDA_CONCURRENCY instances
# (default 16), all started before the clock runs.
set -euo pipefail
export LAMBDA_PROFILE="${LAMBDA_PROFILE:-release}"
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

TARGET=""
PASS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --target) TARGET="${2:?--target needs a URL}"; shift 2 ;;
    --rate|--duration|--viral|--users) PASS+=("$1" "${2:?$1 needs a value}"); shift 2 ;;
    -h|--help) sed -n 2,13p "$0"; exit 0 ;;
    *) die "unknown argument $1 (see scripts/load.sh --help)" ;;
  esac
done

trap cleanup EXIT
trap 'exit 130' INT TERM

log "building the load test and the functions ($LAMBDA_PROFILE; a release build takes about 5 min, once)"
if [ "$LAMBDA_PROFILE" = release ]; then
  cargo build --workspace --release --quiet
else
  cargo build --workspace --quiet
fi

if [ -z "$TARGET" ]; then
  setup_stack_tools
  log "starting the local stack"
  start_dynamodb "$(free_port)"
  TABLE="conduit-load"
  prepare_table "$TABLE"
  API_PORT="$(free_port)"
  RUNTIME_PORT="$(free_port)"
  export LAMBDA_CONCURRENCY="${LAMBDA_CONCURRENCY:-16}"
  # Every simulated user signs up from this one machine: one client, whose
  # per-client budget (300 per 5 minutes by default) would stop the test.
  export AUTH_REQUESTS_PER_CLIENT="${AUTH_REQUESTS_PER_CLIENT:-1000000}"
  start_api "$API_PORT" "$RUNTIME_PORT" "$TABLE"
  TARGET="http://127.0.0.1:$API_PORT"
  # Every instance started before the clock runs (the emulator's cold
  # start is a `cargo run`), and the functions' EMF documents read back.
  PASS+=(--warm "$LAMBDA_CONCURRENCY" --function-log "$TOOLS/cargo-lambda.log")
fi

log "load test against $TARGET"
"$BIN/conduit-load" --target "$TARGET" "${PASS[@]}"
