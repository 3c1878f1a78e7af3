#!/usr/bin/env bash
# Installs what building and testing instructor needs on a fresh Debian machine. Sourced by
# the other scripts; safe to run again (it only installs what is missing).
set -euo pipefail

need_apt=()
command -v cc >/dev/null 2>&1 || need_apt+=(build-essential)
command -v pkg-config >/dev/null 2>&1 || need_apt+=(pkg-config)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
  else
    echo "setup: please install: ${need_apt[*]}" >&2
    exit 1
  fi
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "setup: cargo is missing; install Rust $(grep channel rust-toolchain.toml | cut -d'"' -f2) (rustup.rs)" >&2
  exit 1
fi
