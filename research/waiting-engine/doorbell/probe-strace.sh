#!/bin/sh
# Syscalls made by N rings of a cell nobody sleeps on: strace of the waker between its BEGIN and END markers.
cd /tmp/spike-doorbell
N=${N:-1000000}
strace -f -o /tmp/spike-doorbell/results/strace-c.txt ./cwaker ringidle $N 2>/dev/null
awk '/write\(2, "BEGIN/{on=1; next} /write\(2, "END/{on=0} on' results/strace-c.txt | wc -l | sed 's/^/C: syscalls between the markers: /'
strace -f -o /tmp/spike-doorbell/results/strace-node.txt unshare --ipc --fork "${NODE_BIN:-node}" --import tsx peer.ts ringidle $N 2>/dev/null
awk '/write\(2, "BEGIN/{on=1; next} /write\(2, "END/{on=0} on' results/strace-node.txt | grep -v -E "futex\(0x[0-9a-f]+, FUTEX_(WAIT|WAKE)_PRIVATE|epoll_pwait|madvise|mprotect|munmap|mmap|restart_syscall|resumed|<unfinished" > results/strace-node-between.txt
echo "Node: syscalls between the markers (other than V8/libuv threads' private futexes, GC mm calls): $(wc -l < results/strace-node-between.txt)"
awk '/write\(2, "BEGIN/{on=1; next} /write\(2, "END/{on=0} on' results/strace-node.txt | grep -c -E "FUTEX_WAKE[^_]|FUTEX_WAIT[^_]|write\(|sendto\(|openat\(" | sed 's/^/Node: shared futex, write, sendto or openat calls between the markers: /'
