#!/usr/bin/env bash
# Runs every test of the workspace: unit tests, the derive's UI tests, schema snapshots,
# the extraction loop against scripted providers, doc tests, and builds every example and
# bench. On a fresh Debian machine it first installs what the build needs (as root).
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/setup.sh
source scripts/setup.sh

cargo test --workspace --all-targets --all-features
cargo test --workspace --doc --all-features
