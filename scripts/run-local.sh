#!/usr/bin/env bash
# Runs the whole API locally: DynamoDB Local with the table from template.yaml,
# demo data, and all 21 API functions as real Lambda binaries behind one endpoint
# on 127.0.0.1 that routes exactly as template.yaml does. Ctrl-C stops it all.
#
# Ports: API_PORT (default 3000), DYNAMODB_PORT (8000), RUNTIME_PORT (9000).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

API_PORT="${API_PORT:-3000}"
DYNAMODB_PORT="${DYNAMODB_PORT:-8000}"
RUNTIME_PORT="${RUNTIME_PORT:-9000}"
TABLE="${TABLE_NAME:-conduit}"

trap 'echo; log "stopping"; cleanup; exit 0' INT TERM
trap cleanup EXIT

# Another stack (or anything) on these ports would answer in place of ours:
# refuse before starting anything, and again after the build, which can be long.
require_ports_free() {
  require_free_port "$API_PORT" API_PORT
  require_free_port "$DYNAMODB_PORT" DYNAMODB_PORT
  require_free_port "$RUNTIME_PORT" RUNTIME_PORT
}
require_ports_free

setup_tools
log "building the functions (debug)"
cargo build --workspace --quiet
require_ports_free
log "starting DynamoDB Local on 127.0.0.1:$DYNAMODB_PORT"
start_dynamodb "$DYNAMODB_PORT"
prepare_table "$TABLE"
log "starting the functions (cargo lambda watch) and the gateway"
start_api "$API_PORT" "$RUNTIME_PORT" "$TABLE"

cat <<MSG

  Conduit API:  http://127.0.0.1:$API_PORT/api
  Try:          curl http://127.0.0.1:$API_PORT/api/articles?limit=2
  Log in:       curl -X POST http://127.0.0.1:$API_PORT/api/users/login \\
                  -H 'content-type: application/json' \\
                  -d '{"user":{"email":"jake@example.com","password":"password123"}}'
  Demo users:   jake, ada, grace, linus (email <name>@example.com, password password123)
  Logs:         .tools/cargo-lambda.log (functions), .tools/dynamodb-local.log
  Stop:         Ctrl-C (stops DynamoDB Local too; its data lives in memory)

MSG
# Until Ctrl-C, or until any of them exits: then check_running names it and its
# log, and the EXIT trap stops the rest (half a stack is no use).
while check_running; do
  wait -n "${PIDS[@]}" || true
done
