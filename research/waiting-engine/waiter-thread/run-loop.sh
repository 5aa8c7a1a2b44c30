#!/bin/bash
# Measurement 1, every configuration REPS times, interleaved; one JSON line per run into out/loop.jsonl
cd /work/main
REPS=${REPS:-3}
: > /tmp/spike-waitv/out/loop.jsonl
for rep in $(seq 1 $REPS); do
  for cfg in "none 0" "atomics 8" "atomics 100" "atomics 1000" "port 8" "port 100" "port 1000" "poll 8" "poll 100" "poll 1000" "today 8" "today 100"; do
    timeout 60 unshare --ipc --fork --kill-child node --import tsx /tmp/spike-waitv/bench-loop.ts $cfg >> /tmp/spike-waitv/out/loop.jsonl 2>/tmp/spike-waitv/out/loop.err || echo "{\"failed\":\"$cfg\"}" >> /tmp/spike-waitv/out/loop.jsonl
  done
done
