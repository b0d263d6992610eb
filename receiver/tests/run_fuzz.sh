#!/usr/bin/env bash
# Short libFuzzer run of the ingest parsers, as a ctest (label integration).
# Configures SOURCE/build-fuzz with the settings of the "fuzz" CMake preset, builds only
# receiver_ingest_fuzz, and runs it for a bounded time. Exits 77 (skipped) with a reason
# when clang's libFuzzer runtime is unavailable.
# Usage: run_fuzz.sh SOURCE_DIR [SECONDS] [ARTIFACT_DIR]
set -euo pipefail
src="$(cd "$1" && pwd)"
seconds="${2:-30}"
artifacts="${3:-$src/build-fuzz/fuzz-artifacts}"
build="${SANDWATCH_FUZZ_BUILD_DIR:-$src/build-fuzz}"
here="$(cd "$(dirname "$0")/.." && pwd)"

if ! command -v clang++ >/dev/null 2>&1; then echo "SKIP: clang++ is not installed"; exit 77; fi
probe="$(mktemp -d)"
trap 'rm -rf "$probe"' EXIT
echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }' \
  > "$probe/p.cpp"
if ! clang++ -fsanitize=fuzzer "$probe/p.cpp" -o "$probe/p" >/dev/null 2>&1; then
  echo "SKIP: clang cannot link -fsanitize=fuzzer (install libclang-rt-14-dev)"; exit 77
fi

# Same cache variables as the "fuzz" preset in CMakePresets.json.
cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=clang++ \
  -DSANDWATCH_FUZZ=ON -DSANDWATCH_BENCHMARKS=OFF >/dev/null
cmake --build "$build" --target receiver_ingest_fuzz -j "$(nproc)"
fuzzer="$build/fuzz/receiver_ingest_fuzz"

mkdir -p "$artifacts" "$probe/corpus"
# The first corpus dir receives new inputs; the checked-in seeds stay untouched.
"$fuzzer" "$probe/corpus" "$here/fuzz/corpus" -max_total_time="$seconds" -runs=2000000 \
  -max_len=65536 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$artifacts/" 2>&1 | tail -25
status="${PIPESTATUS[0]}"
if [ "$status" -ne 0 ]; then echo "FAIL: the fuzzer found a crash; see $artifacts"; exit 1; fi
echo "PASS: receiver_ingest_fuzz ran ${seconds}s without findings"
