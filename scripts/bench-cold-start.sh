#!/usr/bin/env bash
# The cold-start benchmark: builds every function and the two baselines
# (tests/baselines) in release, then times cold starts, first and warm
# responses, peak RSS and package sizes against DynamoDB Local behind a TLS
# endpoint, and prints one Markdown table (see README, "Cold start").
#
#   scripts/bench-cold-start.sh                      # all functions, 7 cold starts, 50 warm
#   scripts/bench-cold-start.sh --cold 5 --warm 20 --only get_tags,login
#   scripts/bench-cold-start.sh --only get_tags --compare-dir DIR   # also DIR's binaries (another build), same run
#
# Release builds take long (see README); they are not part of the test command.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

for tool in openssl zip; do
  command -v "$tool" >/dev/null || die "$tool is required (apt-get install $tool)"
done
setup_dynamodb_local
trap cleanup EXIT

# Which functions: all with an event, or those named by --only.
only=""
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  if [ "${args[$i]}" = "--only" ]; then
    only="${args[$((i + 1))]:-}"
    case "$only" in ''|--*) die "--only needs a comma-separated list of functions" ;; esac
  fi
done
if [ -n "$only" ]; then
  IFS=',' read -r -a functions <<< "$only"
else
  functions=()
  for event in events/*.json; do functions+=("$(basename "$event" .json)"); done
fi
# The baselines are always measured, and built below.
kept=()
for function in "${functions[@]}"; do
  case "$function" in baseline-*) ;; *) kept+=("$function") ;; esac
done
functions=("${kept[@]}")
packages=()
for function in "${functions[@]}"; do packages+=(-p "$function"); done

log "building ${#functions[@]} function(s) in release (profile.release in Cargo.toml)"
cargo build --release --quiet "${packages[@]}"
# The baselines are the SDK's defaults, built apart: their SDK features
# cannot leak into our binaries, and in a target directory of their own they
# keep aws-lc's defaults (not .cargo/config.toml's) without the two builds of
# aws-lc replacing each other.
log "building the baselines in release (their own target directory, aws-lc's defaults)"
BASELINE_TARGET="$ROOT/target/baseline"
for baseline in baseline-hello baseline-client; do
  AWS_LC_SYS_NO_JITTER_ENTROPY=0 CARGO_TARGET_DIR="$BASELINE_TARGET" cargo build --release --quiet -p "$baseline"
done
cargo build --quiet -p conduit-tests --bins

# A throwaway CA and a certificate for localhost/127.0.0.1. The bundle the
# functions trust is the system's roots plus that CA, so they parse a full
# root store at init, as in AWS.
certs="$TOOLS/bench-certs"
mkdir -p "$certs"
if [ ! -s "$certs/server.pem" ]; then
  log "creating a test CA and a server certificate in ${certs#"$ROOT"/}"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=Conduit benchmark CA" \
    -keyout "$certs/ca.key" -out "$certs/ca.pem" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
    -keyout "$certs/server.key" -out "$certs/server.csr" 2>/dev/null
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > "$certs/server.ext"
  openssl x509 -req -in "$certs/server.csr" -CA "$certs/ca.pem" -CAkey "$certs/ca.key" -CAcreateserial \
    -days 3650 -extfile "$certs/server.ext" -out "$certs/server.pem" 2>/dev/null
fi
system_roots=""
for candidate in /etc/ssl/certs/ca-certificates.crt /etc/pki/tls/certs/ca-bundle.crt; do
  [ -s "$candidate" ] && system_roots="$candidate" && break
done
cat $system_roots "$certs/ca.pem" > "$certs/bundle.pem"

port="$(free_port)"
log "starting DynamoDB Local on 127.0.0.1:$port"
start_dynamodb "$port"
prepare_table bench
log "measuring (the table is printed at the end)"
# One directory for the harness: the functions' binaries and the baselines'.
bins="$ROOT/target/cold-start-bin"
rm -rf "$bins" && mkdir -p "$bins"
for function in "${functions[@]}"; do ln -s "$ROOT/target/release/$function" "$bins/$function"; done
for baseline in baseline-hello baseline-client; do ln -s "$BASELINE_TARGET/release/$baseline" "$bins/$baseline"; done
"$ROOT/target/debug/cold-start" --bin-dir "$bins" --certs "$certs" --table bench "$@"
