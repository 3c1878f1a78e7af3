#!/usr/bin/env bash
# Runtime schemas against JSONSchemaBench (github.com/guidance-ai/jsonschemabench): per
# dataset, the share of schemas `DynamicSchema::new` compiles and the share each provider's
# dialect and the local GBNF compiler accept (see examples/jsonschemabench.rs).
#
# Usage: scripts/jsonschemabench.sh [path to a jsonschemabench clone or bare git dir]
# Without an argument the repository is cloned into a temporary directory. The data is
# read from there and never copied into this repository.
set -euo pipefail

src="${1:-}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

if [[ -z "$src" ]]; then
    git clone --quiet --depth 1 https://github.com/guidance-ai/jsonschemabench "$work/repo"
    src="$work/repo"
fi

if [[ -d "$src/data" ]]; then
    data="$src/data"
else
    # A bare repository (possibly partial: large blobs may be absent): export each schema
    # of its `data` folder that is present, and say how many are not.
    data="$work/data"
    missing=0
    while IFS=$'\t' read -r meta path; do
        set -- $meta
        if git --git-dir="$src" cat-file -e "$3" 2>/dev/null; then
            mkdir -p "$work/$(dirname "$path")"
            git --git-dir="$src" cat-file blob "$3" > "$work/$path"
        else
            missing=$((missing + 1))
        fi
    done < <(git --git-dir="$src" ls-tree -r HEAD data)
    echo "schemas absent from the copy (not measured): $missing" >&2
fi

cd "$(dirname "$0")/.."
cargo run --quiet --release --example jsonschemabench -- "$data"
