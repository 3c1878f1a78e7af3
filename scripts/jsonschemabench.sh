#!/usr/bin/env bash
# Runtime schemas against JSONSchemaBench (github.com/guidance-ai/jsonschemabench): per
# dataset, the share of schemas `DynamicSchema::new` compiles and the share each provider's
# dialect and the local GBNF compiler accept; on MaskBench's schemas, also whether the
# compiled check classifies each test instance as valid or invalid as the benchmark says
# (see examples/jsonschemabench.rs).
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

# Each folder of the benchmark to measure: `data` (one folder per dataset) and, where
# present, `maskbench/data` (schemas with valid and invalid test instances).
export_folder() {
    local folder="$1"
    if [[ -d "$src/$folder" ]]; then
        echo "$src/$folder"
        return
    fi
    # A bare repository (possibly partial: large blobs may be absent): export each file of
    # the folder that is present, and say how many are not.
    local missing=0 meta path
    while IFS=$'\t' read -r meta path; do
        set -- $meta
        if git --git-dir="$src" cat-file -e "$3" 2>/dev/null; then
            mkdir -p "$work/$(dirname "$path")"
            git --git-dir="$src" cat-file blob "$3" > "$work/$path"
        else
            missing=$((missing + 1))
        fi
    done < <(git --git-dir="$src" ls-tree -r HEAD "$folder")
    echo "files of $folder absent from the copy (not measured): $missing" >&2
    [[ -d "$work/$folder" ]] && echo "$work/$folder"
}

data="$(export_folder data)"
masks="$(export_folder maskbench/data || true)"

cd "$(dirname "$0")/.."
cargo run --quiet --release --example jsonschemabench -- "$data"
if [[ -n "$masks" ]]; then
    echo
    echo "MaskBench (schemas with test instances):"
    cargo run --quiet --release --example jsonschemabench -- "$masks"
fi
