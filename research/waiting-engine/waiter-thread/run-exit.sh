#!/bin/bash
# Runs exit-test.ts cases under Node 20 and 26; prints rc and wall time; kills (by PID) what does not end in 8 s.
cd /work/main
run() { # node case hook report delay
  local node=$1; shift
  local start=$(date +%s.%N)
  unshare --ipc --fork --kill-child "$node" --import tsx /tmp/spike-waitv/exit-test.ts "$@" > /tmp/spike-waitv/out/exit.log 2>&1 &
  local pid=$!
  local waited=0
  while kill -0 $pid 2>/dev/null && [ $waited -lt 80 ]; do sleep 0.1; waited=$((waited+1)); done
  local alive=no
  if kill -0 $pid 2>/dev/null; then alive=yes; kill -KILL $pid; fi
  wait $pid; local rc=$?
  local end=$(date +%s.%N)
  printf "%-10s %-22s %-7s %-8s alive@8s=%-4s rc=%-4s %.2fs | %s\n" "$(basename $(dirname $(dirname $node)))" "$1" "${2:-hook}" "${3:-atomics}" $alive $rc $(echo "$end - $start" | bc) "$(tr '\n' ' ' < /tmp/spike-waitv/out/exit.log | cut -c1-230)"
}
mkdir -p /tmp/spike-waitv/out
N20=/work/main/.cache/node/x64-20.20.2/bin/node
N26=/work/main/.cache/node/x64-26.12.1/bin/node
for node in $N20 $N26; do
  run $node bare-waitasync
  for hook in hook nohook; do
    run $node natural-idle $hook
    run $node pending $hook
    run $node exit-pending-1000 $hook
    run $node throw-pending-1000 $hook
    run $node exit-pending-1000 $hook port
  done
done
# process.exit(3) while the 8 waiter threads start (loading koffi, first snapshot): repeated, looking for hangs/crashes
if [ "$EARLY" = 1 ]; then
for node in $N20 $N26; do
  for delay in 0 10 30 60 120 250; do
    for rep in 1 2 3 4 5; do run $node exit-early-1000 hook atomics $delay; done
  done
done
fi
