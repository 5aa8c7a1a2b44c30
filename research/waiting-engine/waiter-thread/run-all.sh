#!/bin/bash
# Second pass of every measurement (the first was taken while other sessions ran test suites on the 2 cores).
cd /tmp/spike-waitv
date; cat /proc/loadavg
REPS=3 ./run-loop.sh
date; cat /proc/loadavg
REPS=3 ./run-wake.sh
date; cat /proc/loadavg
cd /work/main
: > /tmp/spike-waitv/out/pingpong.jsonl
for rep in 1 2 3 4 5; do timeout 300 unshare --ipc --fork --kill-child node --import tsx /tmp/spike-waitv/pingpong.ts 3000 2>>/tmp/spike-waitv/out/pingpong.err | grep '^{' >> /tmp/spike-waitv/out/pingpong.jsonl; done
date; cat /proc/loadavg
: > /tmp/spike-waitv/out/arm.jsonl
for rep in 1 2 3; do timeout 180 unshare --ipc --fork --kill-child node --import tsx /tmp/spike-waitv/bench-arm.ts warm >> /tmp/spike-waitv/out/arm.jsonl; for n in 127 1000 4000; do timeout 180 unshare --ipc --fork --kill-child node --import tsx /tmp/spike-waitv/bench-arm.ts cold $n >> /tmp/spike-waitv/out/arm.jsonl; done; done
date; cat /proc/loadavg
