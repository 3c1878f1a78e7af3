#!/usr/bin/env bash
# The main job: one extraction of `UserDetail { name, age }` from "Jason is 30 years old".
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
cargo run --quiet --release --example quickstart
