#!/usr/bin/env bash
# fuzz.sh SECONDS: runs the libFuzzer harnesses of test/fuzz/ for SECONDS in
# all (shared evenly, at least 2 s each), so that the pass stays bounded as
# harnesses are added (building them takes a few seconds more each).
# A harness test/fuzz/fuzz_<x>.c is linked with module <x>'s plain-C files,
# src/<x>_*.c (see the Makefile).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
shopt -s nullglob
harnesses=(test/fuzz/fuzz_*.c)
(( ${#harnesses[@]} )) || { echo "fuzz: no harnesses yet"; exit 0; }
mkdir -p test/fuzz/build
per=$(( secs / ${#harnesses[@]} )); (( per >= 2 )) || per=2
for h in "${harnesses[@]}"; do
  name=$(basename "$h" .c); module=${name#fuzz_}
  clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -Isrc -o "test/fuzz/build/$name" "$h" src/"$module"_*.c -lm
  corpus=test/fuzz/corpus/${name#fuzz_}
  mkdir -p "test/fuzz/build/corpus-$name"
  echo "fuzz: $name for ${per}s"
  "test/fuzz/build/$name" -max_total_time="$per" -print_final_stats=0 "test/fuzz/build/corpus-$name" $( [[ -d $corpus ]] && echo "$corpus") 2>test/fuzz/build/$name.log \
    || { tail -40 "test/fuzz/build/$name.log"; exit 1; }
done
