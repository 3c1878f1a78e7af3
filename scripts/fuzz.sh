#!/usr/bin/env bash
# Long fuzz runs, in release, one target at a time: FUZZ_ITERS inputs per target (10 million
# unless set) from FUZZ_SEED (a fixed seed unless set). Each target prints one line:
# executions, crashes, mismatches, its slowest input, total time. Failing inputs are saved to
# target/fuzz-crashes/<target>-<n>.bin (with a shrunk .min.bin); replay one with
#   FUZZ_REPLAY=target/fuzz-crashes/<target>-<n>.bin cargo test --test fuzz
#
#   scripts/fuzz.sh                 # every target
#   scripts/fuzz.sh repair locate   # some of them
#
# Targets: locate locator_chunks repair json_stream sse_events ndjson_lines
set -uo pipefail
cd "$(dirname "$0")/.."

export FUZZ_ITERS="${FUZZ_ITERS:-10000000}"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(locate locator_chunks repair json_stream sse_events ndjson_lines)
fi

cargo test --release --test fuzz --no-run || exit 1
summary=()
status=0
for t in "${targets[@]}"; do
  log=$(mktemp -t "fuzz-$t.XXXXXX.log")
  cargo test --release --test fuzz -- --exact "$t" --nocapture --test-threads 1 2>&1 | tee "$log"
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
  line=$(grep -a -o "fuzz $t: [0-9]* executions.*" "$log" || echo "fuzz $t: no summary (see $log)")
  summary+=("$line")
done
echo
printf '%s\n' "${summary[@]}"
exit $status
