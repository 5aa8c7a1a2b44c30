#!/bin/bash
# process.exit(3) while the 8 waiter threads of 1000 waits start or run: looking for aborts (rc 134) and hangs.
source <(sed -n '1,20p' /tmp/spike-waitv/run-exit.sh)
REPS=${REPS:-5}
for node in $N20 $N26; do
  for delay in 0 10 30 60 120 250 500; do
    for rep in $(seq 1 $REPS); do run $node exit-early-1000 hook atomics $delay; done
  done
done
