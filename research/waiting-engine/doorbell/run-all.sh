#!/bin/bash
# Runs every measurement under Node 20 and Node 26, each in a private IPC namespace, this process pinned to CPU 0
# and its peers to CPU 1 (PIN=0: unpinned). Waits (up to 3 min) for the machine's CPU pressure to drop below 40%
# before each run and records it. Results: results/<bench>-node<major>[-unpinned].{json,log}
cd /tmp/spike-doorbell
gate() {
  for i in $(seq 1 36); do
    p=$(awk '/some/{split($2,a,"="); print int(a[2])}' /proc/pressure/cpu)
    [ "$p" -lt 40 ] && break
    sleep 5
  done
  echo "cpu pressure avg10 before: $(awk '/some/{print $2}' /proc/pressure/cpu)"
}
run() { # run NODEVER BENCH SUFFIX ENV...
  local ver=$1 bench=$2 suffix=$3; shift 3
  local node=/work/main/.cache/node/x64-$ver/bin/node out=results/$bench-node${ver%%.*}$suffix
  gate > $out.log
  if [ -n "$NOPIN" ]; then
    env "$@" NOPIN=1 unshare --ipc --fork $node --import tsx bench-$bench.ts > $out.json 2>> $out.log
  else
    env "$@" unshare --ipc --fork taskset -c 0 $node --import tsx bench-$bench.ts > $out.json 2>> $out.log
  fi
  echo "exit $? cpu pressure avg10 after: $(awk '/some/{print $2}' /proc/pressure/cpu)" >> $out.log
}
for spec in "$@"; do
  IFS=: read -r ver bench suffix envs <<< "$spec"
  if [ "$suffix" = "-unpinned" ]; then NOPIN=1 run $ver $bench $suffix $envs; else NOPIN= run $ver $bench "$suffix" $envs; fi
done
echo all-done > results/run-all.done
