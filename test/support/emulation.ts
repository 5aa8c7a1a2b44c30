// Whether the tests run on an emulated CPU (qemu-user through binfmt_misc, as scripts/ci/emulated.sh does), and a
// way to skip a test there only, with its reason. Only for emulator artefacts: what is wrong on the real CPU too
// must fail, not be skipped.
//
// Detection, in order:
// 1. SYSV_SHM_EMULATED, set by scripts/ci/emulated.sh to the emulator's name ("qemu"). "0", "no" or "none" says
//    "not emulated" and turns the fallback off.
// 2. Fallback: the kernel's architecture against the CPU Node was built for. qemu-user fakes uname() (so
//    os.machine() answers the emulated CPU) and the process's own /proc/self files, but not
//    /proc/sys/kernel/arch (Linux >= 6.1) nor, in qemu < 8.1, /proc/cpuinfo: an arm64 Node on an x86_64 kernel is
//    emulated. A 32-bit arm or x86 Node on a 64-bit kernel of the same family is native and counts as such.
import { readFileSync } from 'node:fs';
import type { TestContext } from 'vitest';

declare module 'vitest' {
  interface TaskMeta {
    /** Why the test was skipped under emulation (kept in the JSON report's "meta" of the test). */
    emulationSkip?: string;
  }
}

export interface Emulation {
  /** "qemu" (from SYSV_SHM_EMULATED), or e.g. "an emulator (arm64 on x86_64)" when only the fallback saw it. */
  emulator: string;
  /** How it was found out. */
  source: 'SYSV_SHM_EMULATED' | '/proc/sys/kernel/arch' | '/proc/cpuinfo';
  /** The kernel's machine (e.g. x86_64) when known. */
  kernelMachine?: string;
}

/** Kernel machine names (uname -m) on which a Node of each process.arch runs natively. */
const NATIVE_MACHINES: Record<string, readonly string[]> = {
  x64: ['x86_64'],
  ia32: ['x86_64', 'i386', 'i486', 'i586', 'i686'],
  arm64: ['aarch64', 'aarch64_be', 'arm64', 'armv8b', 'armv8l'],
  arm: ['aarch64', 'armv6l', 'armv7l', 'armv8l'],
  ppc64: ['ppc64le', 'ppc64'],
  riscv64: ['riscv64'],
  s390x: ['s390x'],
  mips64el: ['mips64'],
  loong64: ['loongarch64'],
};

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** The kernel's machine from /proc/cpuinfo, for kernels without /proc/sys/kernel/arch; only x86 is told apart. */
function machineFromCpuinfo(): string | undefined {
  const text = read('/proc/cpuinfo');
  if (text === undefined) return undefined;
  // x86 kernels print vendor_id and a flags line; no other architecture's kernel does both.
  if (/^vendor_id\s*:/m.test(text) && /^flags\s*:/m.test(text)) return /\blm\b/.test(/^flags\s*:(.*)$/m.exec(text)![1]) ? 'x86_64' : 'i686';
  return undefined;
}

export function detectEmulation(env: NodeJS.ProcessEnv = process.env, arch: string = process.arch): Emulation | undefined {
  const declared = env.SYSV_SHM_EMULATED?.trim();
  if (declared) {
    if (/^(0|no|none|false)$/i.test(declared)) return undefined;
    return { emulator: declared, source: 'SYSV_SHM_EMULATED' };
  }
  const native = NATIVE_MACHINES[arch];
  if (!native) return undefined;
  const kernelArch = read('/proc/sys/kernel/arch')?.trim();
  const unnamed = (machine: string) => `an emulator (${arch} on ${machine})`;
  if (kernelArch)
    return native.includes(kernelArch) ? undefined : { emulator: unnamed(kernelArch), source: '/proc/sys/kernel/arch', kernelMachine: kernelArch };
  const fromCpuinfo = machineFromCpuinfo();
  if (fromCpuinfo && !native.includes(fromCpuinfo)) return { emulator: unnamed(fromCpuinfo), source: '/proc/cpuinfo', kernelMachine: fromCpuinfo };
  return undefined;
}

/** The emulation this process runs under, or undefined on a real CPU. */
export const emulation: Emulation | undefined = detectEmulation();

/** True under an emulated CPU. */
export const emulated = emulation !== undefined;

/**
 * Skips the running test when the CPU is emulated, giving the reason (shown by the reporters, kept in the JSON
 * report as meta.emulationSkip). On a real CPU it does nothing. `reason` must name the emulator's defect.
 */
export function skipIfEmulated(context: TestContext, reason: string): void {
  if (!emulation) return;
  const note = `under ${emulation.emulator}: ${reason}`;
  context.task.meta.emulationSkip = note;
  context.skip(note);
}

const INT_MAX = 2n ** 31n - 1n;
const UINT32_MAX = 2n ** 32n - 1n;

/**
 * The shmmax that shmctl(IPC_INFO) gives a process whose C long has `longBytes` bytes, from
 * /proc/sys/kernel/shmmax: the kernel value itself for a 64-bit process or one that fits; for a 32-bit process of a
 * 64-bit kernel, INT_MAX (the compat layer, ipc/shm.c copy_compat_shminfo_to_user, clamps it so that a 32-bit
 * program never reads a size it cannot map). Between INT_MAX and 2^32 - 1 a 32-bit kernel gives the value and a
 * 64-bit one clamps it: both are accepted. `emulatorDiffers`: qemu-user gives a 32-bit guest something else here.
 */
export function ipcInfoShmmax(kernel: bigint, longBytes: number): { expected: bigint[]; emulatorDiffers: boolean } {
  if (longBytes >= 8 || kernel <= INT_MAX) return { expected: [kernel], emulatorDiffers: false };
  if (kernel <= UINT32_MAX) return { expected: [kernel, INT_MAX], emulatorDiffers: false };
  return { expected: [INT_MAX], emulatorDiffers: true };
}
ipcInfoShmmax.emulatorReason =
  "qemu-user (7.2) makes the 64-bit host call and cuts shmmax to the guest's 32 bits (2^64 - 2^24 - 1 becomes " +
  "0xfeffffff) where the kernel's compat layer clamps it to INT_MAX";

/**
 * msg_lrpid as a process under emulation reads it back from IPC_STAT after `pid` received: qemu-user (7.2) copies
 * msqid_ds to a 64-bit guest with 8-byte pid fields (abi_ulong in its target_msqid_ds, where the kernel and libc have
 * 4-byte pid_t at 96 and 100): msg_lspid fills both words, so msg_lrpid reads 0. Natively, and for 32-bit guests, `pid`.
 */
export function lrpidAsSeen(pid: number): number {
  return emulated && process.arch === 'arm64' ? 0 : pid;
}
