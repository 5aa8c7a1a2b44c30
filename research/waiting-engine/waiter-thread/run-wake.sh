#!/bin/bash
# Measurement 2, every configuration REPS times, interleaved; JSON lines into out/wake.jsonl
cd /work/main
REPS=${REPS:-3}
: > /tmp/spike-waitv/out/wake.jsonl
for rep in $(seq 1 $REPS); do
  for cfg in "sync 1" "today 1" "today 8" "atomics 1" "atomics 1000" "port 1" "port 1000" "poll 1" "poll 1000"; do
    timeout 90 unshare --ipc --fork --kill-child node --import tsx /tmp/spike-waitv/bench-wake.ts $cfg 1000 >> /tmp/spike-waitv/out/wake.jsonl 2>>/tmp/spike-waitv/out/wake.err || echo "{\"failed\":\"$cfg\"}" >> /tmp/spike-waitv/out/wake.jsonl
  done
done
