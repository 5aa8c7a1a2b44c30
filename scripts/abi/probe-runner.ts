/**
 * Compile scripts/abi/probe.c for one target and turn the answers into an
 * AbiDescription. Used by scripts/abi/generate.ts and by test/abi.test.ts
 * (host check). Nothing here runs a target binary: every value is read from
 * marker strings in the `.o` file (see probe.c), and the libc symbol names
 * from the object's ELF symbol table.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, symlinkSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AbiDescription, FieldLayout, StructLayout } from '../../lib/abi/types.js';

export const PROBE_C = resolve(dirname(fileURLToPath(import.meta.url)), 'probe.c');
const ROOT = resolve(dirname(PROBE_C), '..', '..');

export interface TargetConfig {
  name: string;
  arch: string;
  libc: 'glibc' | 'musl';
  /** C compiler command (first word) and its extra flags. */
  cc: string;
  flags: string[];
  /** Debian packages that ship the headers, for the provenance line. */
  libcPackage: string;
  kernelPackage: string;
  /**
   * For compilers whose include path has no kernel uapi headers (Debian's
   * musl-gcc): directories to expose as <linux/...>, <asm/...>, <asm-generic/...>.
   */
  kernelHeaderDirs?: { linux: string; asm: string; 'asm-generic': string };
  /**
   * For compilers the host distribution does not ship: run `cc` inside this
   * chroot (`dir` relative to the repository root, made by the `setup`
   * script). probe.c is copied into the chroot's /tmp and the objects are read
   * back from there; nothing else changes. Paths in `cc`, `flags` and
   * `kernelHeaderDirs` are the chroot's, and the package versions are read
   * from the chroot's dpkg database.
   */
  chroot?: { dir: string; setup: string };
}

/** Targets that cannot be generated honestly here, with the reason (getAbi throws it). */
export const UNAVAILABLE: Readonly<Record<string, string>> = {};

/** Debian 12 has no loongarch64 cross compiler; Debian 13 does. */
const DEBIAN13 = { dir: '.cache/debian13-chroot', setup: 'scripts/abi/debian13-chroot.sh' };

const TIME64 = ['-D_TIME_BITS=64', '-D_FILE_OFFSET_BITS=64'];

export const TARGETS: readonly TargetConfig[] = [
  { name: 'linux-x64-gnu', arch: 'x64', libc: 'glibc', cc: 'cc', flags: [], libcPackage: 'libc6-dev', kernelPackage: 'linux-libc-dev' },
  {
    name: 'linux-x64-musl',
    arch: 'x64',
    libc: 'musl',
    cc: 'musl-gcc',
    flags: [],
    libcPackage: 'musl-dev',
    kernelPackage: 'linux-libc-dev',
    kernelHeaderDirs: { linux: '/usr/include/linux', asm: '/usr/include/x86_64-linux-gnu/asm', 'asm-generic': '/usr/include/asm-generic' },
  },
  {
    name: 'linux-arm64-gnu',
    arch: 'arm64',
    libc: 'glibc',
    cc: 'aarch64-linux-gnu-gcc',
    flags: [],
    libcPackage: 'libc6-dev-arm64-cross',
    kernelPackage: 'linux-libc-dev-arm64-cross',
  },
  {
    name: 'linux-arm-gnu',
    arch: 'arm',
    libc: 'glibc',
    cc: 'arm-linux-gnueabihf-gcc',
    flags: [],
    libcPackage: 'libc6-dev-armhf-cross',
    kernelPackage: 'linux-libc-dev-armhf-cross',
  },
  {
    name: 'linux-arm-gnu-time64',
    arch: 'arm',
    libc: 'glibc',
    cc: 'arm-linux-gnueabihf-gcc',
    flags: TIME64,
    libcPackage: 'libc6-dev-armhf-cross',
    kernelPackage: 'linux-libc-dev-armhf-cross',
  },
  {
    name: 'linux-ia32-gnu',
    arch: 'ia32',
    libc: 'glibc',
    cc: 'i686-linux-gnu-gcc',
    flags: [],
    libcPackage: 'libc6-dev-i386-cross',
    kernelPackage: 'linux-libc-dev-i386-cross',
  },
  {
    name: 'linux-ia32-gnu-time64',
    arch: 'ia32',
    libc: 'glibc',
    cc: 'i686-linux-gnu-gcc',
    flags: TIME64,
    libcPackage: 'libc6-dev-i386-cross',
    kernelPackage: 'linux-libc-dev-i386-cross',
  },
  {
    name: 'linux-riscv64-gnu',
    arch: 'riscv64',
    libc: 'glibc',
    cc: 'riscv64-linux-gnu-gcc',
    flags: [],
    libcPackage: 'libc6-dev-riscv64-cross',
    kernelPackage: 'linux-libc-dev-riscv64-cross',
  },
  {
    name: 'linux-ppc64-gnu',
    arch: 'ppc64',
    libc: 'glibc',
    cc: 'powerpc64le-linux-gnu-gcc',
    flags: [],
    libcPackage: 'libc6-dev-ppc64el-cross',
    kernelPackage: 'linux-libc-dev-ppc64el-cross',
  },
  {
    name: 'linux-s390x-gnu',
    arch: 's390x',
    libc: 'glibc',
    cc: 's390x-linux-gnu-gcc',
    flags: [],
    libcPackage: 'libc6-dev-s390x-cross',
    kernelPackage: 'linux-libc-dev-s390x-cross',
  },
  {
    name: 'linux-mips64el-gnu',
    arch: 'mips64el',
    libc: 'glibc',
    cc: 'mips64el-linux-gnuabi64-gcc',
    flags: [],
    libcPackage: 'libc6-dev-mips64el-cross',
    kernelPackage: 'linux-libc-dev-mips64el-cross',
  },
  {
    name: 'linux-loong64-gnu',
    arch: 'loong64',
    libc: 'glibc',
    cc: 'loongarch64-linux-gnu-gcc',
    flags: [],
    libcPackage: 'libc6-dev-loong64-cross',
    kernelPackage: 'linux-libc-dev-loong64-cross',
    chroot: DEBIAN13,
  },
];

// ---------------------------------------------------------------------------
// Object file reading
// ---------------------------------------------------------------------------

export interface Markers {
  nums: Map<string, number>;
  texts: Map<string, string[]>;
}

/** Read every "@@key=<sign><20 digits>@@" and "@@key="text"@@" marker. */
export function readMarkers(obj: Uint8Array): Markers {
  const s = Buffer.from(obj).toString('latin1');
  const nums = new Map<string, number>();
  const texts = new Map<string, string[]>();
  for (const m of s.matchAll(/@@([A-Za-z0-9_.]+)=([+-])(\d{20})@@/g)) {
    const big = BigInt(m[3]) * (m[2] === '-' ? -1n : 1n);
    if (big > BigInt(Number.MAX_SAFE_INTEGER) || big < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new Error(`probe value ${m[1]}=${big} does not fit a JS number`);
    }
    const v = Number(big);
    const prev = nums.get(m[1]);
    if (prev !== undefined && prev !== v) throw new Error(`probe marker ${m[1]} has two values: ${prev}, ${v}`);
    nums.set(m[1], v);
  }
  for (const m of s.matchAll(/@@([A-Za-z0-9_.]+)="([^"]*)"@@/g)) {
    const list = texts.get(m[1]) ?? [];
    list.push(m[2]);
    texts.set(m[1], list);
  }
  return { nums, texts };
}

interface ElfInfo {
  is64: boolean;
  littleEndian: boolean;
  undefinedSymbols: string[];
}

/** Minimal ELF reader: class, data encoding, and the undefined symbols of .symtab. */
export function readElf(obj: Uint8Array): ElfInfo {
  if (obj[0] !== 0x7f || obj[1] !== 0x45 || obj[2] !== 0x4c || obj[3] !== 0x46) throw new Error('not an ELF object');
  const is64 = obj[4] === 2;
  const le = obj[5] === 1;
  const v = new DataView(obj.buffer, obj.byteOffset, obj.byteLength);
  const u16 = (o: number) => v.getUint16(o, le);
  const u32 = (o: number) => v.getUint32(o, le);
  const addr = (o: number) => (is64 ? Number(v.getBigUint64(o, le)) : u32(o));
  const shoff = addr(is64 ? 0x28 : 0x20);
  const shentsize = u16(is64 ? 0x3a : 0x2e);
  const shnum = u16(is64 ? 0x3c : 0x30);
  const section = (i: number) => {
    const b = shoff + i * shentsize;
    return {
      type: u32(b + 4),
      offset: addr(b + (is64 ? 0x18 : 0x10)),
      size: addr(b + (is64 ? 0x20 : 0x14)),
      link: u32(b + (is64 ? 0x28 : 0x18)),
      entsize: addr(b + (is64 ? 0x38 : 0x24)),
    };
  };
  const undefinedSymbols: string[] = [];
  for (let i = 0; i < shnum; i++) {
    const sh = section(i);
    if (sh.type !== 2 /* SHT_SYMTAB */) continue;
    const strtab = section(sh.link);
    for (let o = sh.offset; o + sh.entsize <= sh.offset + sh.size; o += sh.entsize) {
      const name = u32(o);
      const shndx = u16(o + (is64 ? 6 : 14));
      if (name === 0 || shndx !== 0 /* SHN_UNDEF */) continue;
      let end = strtab.offset + name;
      while (obj[end] !== 0) end++;
      undefinedSymbols.push(Buffer.from(obj.subarray(strtab.offset + name, end)).toString('latin1'));
    }
  }
  return { is64, littleEndian: le, undefinedSymbols };
}

// ---------------------------------------------------------------------------
// Compiling
// ---------------------------------------------------------------------------

export interface ProbeOptions {
  /** Override the configured compiler (the host check uses `cc`). */
  cc?: string;
}

/** Where and how the compiler runs: on the host, or inside a chroot that sees `dir` as `seen`. */
interface Workspace {
  /** Scratch directory as the host sees it (objects are read from here). */
  dir: string;
  /** The same directory as the compiler sees it. */
  seen: string;
  /** probe.c as the compiler sees it. */
  source: string;
  /** Command words before the compiler's own arguments, e.g. ['chroot', root, 'gcc']. */
  command: string[];
}

class Compiler {
  private n = 0;
  constructor(
    private readonly ws: Workspace,
    private readonly flags: string[],
  ) {}

  private run(defines: string[], extra: string[], out: string): void {
    const [file, ...pre] = this.ws.command;
    const args = [...pre, ...this.flags, ...extra, '-c', '-O0', '-w', ...defines.map((d) => `-D${d}`), this.ws.source, '-o', join(this.ws.seen, out)];
    execFileSync(file, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  }

  /** Compile probe.c with extra -D flags; null if it does not compile. */
  tryCompile(defines: string[], extra: string[] = []): Uint8Array | null {
    const out = `probe-${this.n++}.o`;
    try {
      this.run(defines, extra, out);
    } catch {
      return null;
    }
    return readFileSync(join(this.ws.dir, out));
  }

  compile(defines: string[], extra: string[] = []): Uint8Array {
    const obj = this.tryCompile(defines, extra);
    if (obj) return obj;
    // Compile again to show the compiler's message.
    let message = '';
    try {
      this.run(defines, extra, 'err.o');
    } catch (e) {
      message = String((e as { stderr?: Buffer }).stderr ?? e);
    }
    throw new Error(`${this.ws.command.join(' ')} failed to compile probe.c (${defines.join(' ') || 'libc mode'}):\n${message}`);
  }
}

/**
 * The argv prefix that runs a program inside `root`: chroot(8) as root;
 * otherwise unshare(1) maps the caller to root in a new user namespace, which
 * can chroot too (reading and compiling need no real root).
 */
function chrootCommand(root: string): string[] {
  return process.getuid?.() === 0 ? ['chroot', root] : ['unshare', '--map-root-user', `--root=${root}`];
}

const STRUCT_FIELDS = {
  ipc_perm: ['key', 'uid', 'gid', 'cuid', 'cgid', 'mode', 'seq'],
  shmid_ds: [
    'shm_perm',
    'shm_segsz',
    'shm_atime',
    'shm_atime_high',
    'shm_dtime',
    'shm_dtime_high',
    'shm_ctime',
    'shm_ctime_high',
    'shm_cpid',
    'shm_lpid',
    'shm_nattch',
  ],
  shminfo: ['shmmax', 'shmmin', 'shmmni', 'shmseg', 'shmall'],
  shm_info: ['used_ids', 'shm_tot', 'shm_rss', 'shm_swp', 'swap_attempts', 'swap_successes'],
  timespec: ['tv_sec', 'tv_nsec'],
  sockaddr_un: ['sun_family', 'sun_path'],
  futex_waitv: ['val', 'uaddr', 'flags'],
  __kernel_timespec: ['tv_sec', 'tv_nsec'],
  ipc64_perm: ['key', 'uid', 'gid', 'cuid', 'cgid', 'mode', 'seq'],
  shmid64_ds: [
    'shm_perm',
    'shm_segsz',
    'shm_atime',
    'shm_atime_high',
    'shm_dtime',
    'shm_dtime_high',
    'shm_ctime',
    'shm_ctime_high',
    'shm_cpid',
    'shm_lpid',
    'shm_nattch',
  ],
  semid_ds: ['sem_perm', 'sem_otime', 'sem_otime_high', 'sem_ctime', 'sem_ctime_high', 'sem_nsems'],
  msqid_ds: [
    'msg_perm',
    'msg_stime',
    'msg_stime_high',
    'msg_rtime',
    'msg_rtime_high',
    'msg_ctime',
    'msg_ctime_high',
    'msg_cbytes',
    'msg_qnum',
    'msg_qbytes',
    'msg_lspid',
    'msg_lrpid',
  ],
  seminfo: ['semmap', 'semmni', 'semmns', 'semmnu', 'semmsl', 'semopm', 'semume', 'semusz', 'semvmx', 'semaem'],
  msginfo: ['msgpool', 'msgmap', 'msgmax', 'msgmnb', 'msgmni', 'msgssz', 'msgtql', 'msgseg'],
  sembuf: ['sem_num', 'sem_op', 'sem_flg'],
  semun: ['val', 'buf', 'array'],
  semid64_ds: ['sem_perm', 'sem_otime', 'sem_otime_high', 'sem_ctime', 'sem_ctime_high', 'sem_nsems'],
  msqid64_ds: [
    'msg_perm',
    'msg_stime',
    'msg_stime_high',
    'msg_rtime',
    'msg_rtime_high',
    'msg_ctime',
    'msg_ctime_high',
    'msg_cbytes',
    'msg_qnum',
    'msg_qbytes',
    'msg_lspid',
    'msg_lrpid',
  ],
} as const;

type StructName = keyof typeof STRUCT_FIELDS;

function fieldFrom(nums: Map<string, number>, struct: string, field: string): FieldLayout | undefined {
  const k = `field.${struct}.${field}`;
  const offset = nums.get(`${k}.offset`);
  const size = nums.get(`${k}.size`);
  if (offset === undefined || size === undefined) return undefined;
  const signed = nums.get(`${k}.signed`);
  return { offset, size, signed: signed === undefined ? null : signed === 1 };
}

function structFrom(nums: Map<string, number>, struct: StructName): StructLayout {
  const size = nums.get(`sizeof.${struct}`);
  if (size === undefined) throw new Error(`probe gave no sizeof(struct ${struct})`);
  const fields: Record<string, FieldLayout> = {};
  for (const f of STRUCT_FIELDS[struct]) {
    const layout = fieldFrom(nums, struct, f);
    if (layout) fields[f] = layout;
  }
  const align = nums.get(`align.${struct}`);
  return align === undefined ? { size, fields } : { size, align, fields };
}

/** The fields of a `*_ds` struct that carry data: not the `*_high` words (their meaning depends on the target). */
function dataFields(struct: StructName): string[] {
  return STRUCT_FIELDS[struct].filter((f) => !f.endsWith('_high'));
}

function prefixed(nums: Map<string, number>, prefix: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const [k, v] of nums) if (k.startsWith(prefix)) out.set(k.slice(prefix.length), v);
  return out;
}

function dpkgVersion(pkg: string, root = '/'): string | undefined {
  try {
    const admindir = join(root, 'var', 'lib', 'dpkg');
    return (
      // biome-ignore lint/suspicious/noTemplateCurlyInString: ${Version} is dpkg-query's format, not JavaScript's
      execFileSync('dpkg-query', [`--admindir=${admindir}`, '-W', '-f=${Version}', pkg], { stdio: ['ignore', 'pipe', 'ignore'] })
        .toString()
        .trim() || undefined
    );
  } catch {
    return undefined;
  }
}

function sameLayout(a: FieldLayout, b: FieldLayout): boolean {
  return a.offset === b.offset && a.size === b.size && a.signed === b.signed;
}

/** Compile the probe for one target and build its description. */
export function probeTarget(config: TargetConfig, options: ProbeOptions = {}): AbiDescription {
  // A compiler given in options (the host check) runs on the host, never in the chroot.
  const root = config.chroot && !options.cc ? resolve(ROOT, config.chroot.dir) : '/';
  const [ccCmd, ...ccFlags] = (options.cc ?? config.cc).split(/\s+/);
  if (root !== '/' && !existsSync(join(root, 'usr', 'bin', ccCmd))) {
    throw new Error(`${config.name}: ${root} has no ${ccCmd}; create it with: sudo bash ${config.chroot!.setup}`);
  }
  const dir = mkdtempSync(join(root === '/' ? tmpdir() : join(root, 'tmp'), 'abi-probe-'));
  const seen = root === '/' ? dir : `/${relative(root, dir)}`;
  try {
    if (root !== '/') copyFileSync(PROBE_C, join(dir, 'probe.c'));
    const cc = new Compiler(
      {
        dir,
        seen,
        source: root === '/' ? PROBE_C : join(seen, 'probe.c'),
        command: [...(root === '/' ? [] : chrootCommand(root)), ccCmd],
      },
      [...ccFlags, ...config.flags],
    );

    // Kernel uapi headers for compilers that do not see them by default.
    const kernelExtra: string[] = [];
    if (config.kernelHeaderDirs && !options.cc) {
      const inc = join(dir, 'uapi');
      mkdirSync(inc);
      for (const [name, target] of Object.entries(config.kernelHeaderDirs)) {
        if (!existsSync(join(root, target))) throw new Error(`${config.name}: kernel headers ${target} missing (run scripts/abi/install-cross-compilers.sh)`);
        symlinkSync(target, join(inc, name));
      }
      kernelExtra.push('-idirafter', join(seen, 'uapi'));
    }

    const libcObj = cc.compile([]);
    const elf = readElf(libcObj);
    const libc = readMarkers(libcObj);
    const kernel = readMarkers(cc.compile(['PROBE_MODE_KERNEL'], kernelExtra));
    const notes: string[] = [];

    // Optional fields: try each spelling; keep those that compile.
    const optional = readMarkers(cc.compile(['PROBE_MODE_LIST'])).texts.get('optional') ?? [];
    const required = new Map<string, boolean>();
    for (const line of optional) {
      const [domain, struct, logical, cname, req] = line.split(' ');
      const key = `${domain} ${struct}.${logical}`;
      required.set(key, (required.get(key) ?? false) || req === '1');
      const obj = cc.tryCompile(
        ['PROBE_MODE_TRY', `PROBE_TRY_DOMAIN=${domain}`, `PROBE_TRY_STRUCT=${struct}`, `PROBE_TRY_KEY="${struct}.${logical}"`, `PROBE_TRY_FIELD=${cname}`],
        domain === 'kernel' ? kernelExtra : [],
      );
      if (!obj) continue;
      const target = domain === 'kernel' ? kernel.nums : libc.nums;
      const found = fieldFrom(readMarkers(obj).nums, struct, logical);
      if (!found) throw new Error(`try-compile of ${struct}.${cname} gave no markers`);
      const existing = fieldFrom(target, struct, logical);
      if (existing && !sameLayout(existing, found)) {
        throw new Error(`${config.name}: two spellings of ${struct}.${logical} disagree`);
      }
      const k = `field.${struct}.${logical}`;
      target.set(`${k}.offset`, found.offset);
      target.set(`${k}.size`, found.size);
      target.set(`${k}.signed`, found.signed ? 1 : 0);
    }
    for (const [key, req] of required) {
      const [domain, sl] = key.split(' ');
      const [struct, logical] = sl.split('.');
      if (req && !fieldFrom(domain === 'kernel' ? kernel.nums : libc.nums, struct, logical)) {
        throw new Error(`${config.name}: no spelling of ${struct}.${logical} compiles`);
      }
    }

    const num = (k: string) => {
      const v = libc.nums.get(k);
      if (v === undefined) throw new Error(`${config.name}: probe gave no ${k}`);
      return v;
    };
    const littleEndian = num('info.little_endian') === 1;
    const pointerSize = num('info.sizeof_pointer');
    if (elf.littleEndian !== littleEndian || elf.is64 !== (pointerSize === 8)) {
      throw new Error(`${config.name}: ELF header disagrees with the probe about endianness/word size`);
    }
    if (pointerSize !== 4 && pointerSize !== 8) throw new Error(`unexpected pointer size ${pointerSize}`);

    const structs = {
      ipc_perm: structFrom(libc.nums, 'ipc_perm'),
      shmid_ds: structFrom(libc.nums, 'shmid_ds'),
      shminfo: structFrom(libc.nums, 'shminfo'),
      shm_info: structFrom(libc.nums, 'shm_info'),
      timespec: structFrom(libc.nums, 'timespec'),
      sockaddr_un: structFrom(libc.nums, 'sockaddr_un'),
      semid_ds: structFrom(libc.nums, 'semid_ds'),
      msqid_ds: structFrom(libc.nums, 'msqid_ds'),
      seminfo: structFrom(libc.nums, 'seminfo'),
      msginfo: structFrom(libc.nums, 'msginfo'),
      sembuf: structFrom(libc.nums, 'sembuf'),
      semun: structFrom(libc.nums, 'semun'),
    };
    const kernelStructs = {
      ipc64_perm: structFrom(kernel.nums, 'ipc64_perm'),
      shmid64_ds: structFrom(kernel.nums, 'shmid64_ds'),
      semid64_ds: structFrom(kernel.nums, 'semid64_ds'),
      msqid64_ds: structFrom(kernel.nums, 'msqid64_ds'),
      futex_waitv: structFrom(kernel.nums, 'futex_waitv'),
      __kernel_timespec: structFrom(kernel.nums, '__kernel_timespec'),
      sockaddr_un: structFrom(kernel.nums, 'sockaddr_un'),
    };

    // bind(2) and connect(2) hand the caller's sockaddr_un bytes to the kernel as they are: the libc
    // and kernel layouts must be the same.
    {
      const l = structs.sockaddr_un;
      const k = kernelStructs.sockaddr_un;
      const same = l.size === k.size && STRUCT_FIELDS.sockaddr_un.every((f) => l.fields[f] && k.fields[f] && sameLayout(l.fields[f], k.fields[f]));
      if (!same) {
        throw new Error(`${config.name}: libc and kernel disagree on struct sockaddr_un (${JSON.stringify(l)} vs ${JSON.stringify(k)}); needs a human`);
      }
    }

    // semop(2) hands the caller's struct sembuf array to the kernel as it is, IPC_INFO/SEM_INFO/MSG_INFO the
    // caller's seminfo/msginfo buffer, and union semun (defined by the caller in both modes) is the same C
    // declaration: libc and kernel layouts must be the same.
    for (const name of ['sembuf', 'seminfo', 'msginfo', 'semun'] as const) {
      const l = structs[name];
      const k = structFrom(kernel.nums, name);
      const same = l.size === k.size && STRUCT_FIELDS[name].every((f) => l.fields[f] && k.fields[f] && sameLayout(l.fields[f], k.fields[f]));
      if (!same) {
        throw new Error(`${config.name}: libc and kernel disagree on ${name} (${JSON.stringify(l)} vs ${JSON.stringify(k)}); needs a human`);
      }
    }
    if (structs.semun.size !== pointerSize || structs.semun.fields.val.offset !== 0) {
      throw new Error(`${config.name}: union semun is not one pointer with val at offset 0 (${JSON.stringify(structs.semun)})`);
    }

    // On 64-bit targets glibc and musl hand the caller's struct shmid_ds to
    // the shmctl syscall unchanged (glibc's own <bits/ipc-perm.h> says so:
    // "It follows the kernel ipc64_perm size so the syscall can be made
    // directly without temporary buffer copy"). There, the bytes are the
    // kernel's struct ipc64_perm; if the libc header disagrees with the kernel
    // about where `seq` lives, the kernel's offset is the truth.
    if (pointerSize === 8) {
      const lp = structs.ipc_perm.fields;
      const kp = kernelStructs.ipc64_perm.fields;
      for (const f of STRUCT_FIELDS.ipc_perm) {
        const l = lp[f];
        const k = kp[f];
        if (l.offset === k.offset) {
          if (l.size !== k.size) {
            notes.push(
              `ipc_perm.${f}: libc reads ${l.size} bytes at offset ${l.offset}, the kernel writes ${k.size}; ` +
                `the rest is kernel padding that the kernel zeroes, so the libc layout is kept.`,
            );
          }
          continue;
        }
        if (f !== 'seq') {
          throw new Error(`${config.name}: libc and kernel disagree on ipc_perm.${f} offset (${l.offset} vs ${k.offset}); needs a human`);
        }
        notes.push(
          `ipc_perm.seq: the libc header puts it at offset ${l.offset} (${l.size} bytes) but the kernel's struct ipc64_perm ` +
            `(<asm/ipcbuf.h>) has it at offset ${k.offset} (${k.size} bytes); libc passes the buffer to the kernel ` +
            `unchanged on 64-bit targets, so the kernel's offset and size are used.`,
        );
        (lp as Record<string, FieldLayout>).seq = { ...k };
      }

      // The same pass-through holds for shmid_ds, semid_ds and msqid_ds: every data field must be where the
      // kernel's *64_ds writes it. A narrower libc field at the same offset is kept, with a note, when the
      // target is little-endian (the libc bytes are the low bytes of the kernel's value).
      const pairs = [
        ['shmid_ds', structs.shmid_ds, 'shmid64_ds', kernelStructs.shmid64_ds],
        ['semid_ds', structs.semid_ds, 'semid64_ds', kernelStructs.semid64_ds],
        ['msqid_ds', structs.msqid_ds, 'msqid64_ds', kernelStructs.msqid64_ds],
      ] as const;
      for (const [lname, ls, kname, ks] of pairs) {
        if (ls.size !== ks.size) {
          throw new Error(`${config.name}: sizeof(struct ${lname}) = ${ls.size} but the kernel's ${kname} is ${ks.size}; needs a human`);
        }
        for (const f of dataFields(lname)) {
          const l = ls.fields[f];
          const k = ks.fields[f];
          if (!l || !k || l.offset !== k.offset) {
            throw new Error(`${config.name}: libc ${lname}.${f} ${JSON.stringify(l)} vs kernel ${kname}.${f} ${JSON.stringify(k)}; needs a human`);
          }
          if (l.size === k.size) continue;
          if (!littleEndian || l.size > k.size) {
            throw new Error(`${config.name}: libc ${lname}.${f} is ${l.size} bytes, the kernel's ${k.size}, on a big-endian target; needs a human`);
          }
          notes.push(
            `${lname}.${f}: libc reads ${l.size} bytes at offset ${l.offset}, the kernel writes ${k.size} (${kname}); on this ` +
              `little-endian target those are the value's low bytes, so the libc layout is kept (exact below 2^${8 * l.size}).`,
          );
        }
      }
    }

    // A `*_high` word is a time's high half only beside a 4-byte time (the legacy 32-bit layouts). glibc also
    // names x86-64's and mips64's reserved words `__sem_otime_high`...: they are kept in the table as the
    // headers say, and the decoders ignore them.
    for (const [sname, s] of [
      ['shmid_ds', structs.shmid_ds],
      ['semid_ds', structs.semid_ds],
      ['msqid_ds', structs.msqid_ds],
    ] as const) {
      for (const [f, l] of Object.entries(s.fields)) {
        if (!f.endsWith('_high')) continue;
        const low = s.fields[f.slice(0, -'_high'.length)];
        if (low && low.size === 4) continue;
        notes.push(
          `${sname}.${f}: ${l.size} bytes at offset ${l.offset} beside the ${low?.size}-byte ${f.slice(0, -'_high'.length)}; ` +
            `a reserved word (the kernel's __unused), not a high half: the decoders ignore it.`,
        );
      }
    }

    // Constants, errno, syscalls: libc first, kernel uapi headers fill gaps.
    const fromKernelHeaders = { constants: [] as string[], errno: [] as string[], syscalls: [] as string[] };
    const merge = (prefix: string, kind: 'constants' | 'errno' | 'syscalls') => {
      const out: Record<string, number> = {};
      const l = prefixed(libc.nums, prefix);
      const k = prefixed(kernel.nums, prefix);
      for (const [name, v] of l) out[name] = v;
      for (const [name, v] of k) {
        if (!(name in out)) {
          out[name] = v;
          fromKernelHeaders[kind].push(name);
        } else if (out[name] !== v) {
          notes.push(`${kind}.${name}: libc headers say ${out[name]}, kernel uapi headers say ${v}; the libc value is used.`);
        }
      }
      return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    };
    const constants = merge('const.', 'constants');
    const errno = merge('errno.', 'errno');
    const syscalls = merge('syscall.', 'syscalls');
    for (const list of Object.values(fromKernelHeaders)) list.sort();

    // SHMLBA: pages if it scaled with the page-size stand-in, bytes otherwise.
    const lba1 = libc.nums.get('shmlba.unit1');
    const lba2 = libc.nums.get('shmlba.unit2');
    if (lba1 !== undefined && lba2 !== undefined) {
      if (lba2 === 2 * lba1) {
        constants.SHMLBA_PAGES = lba1;
        notes.push(`SHMLBA is ${lba1} page(s) (SHMLBA_PAGES): the libc macro scales with the page size.`);
      } else if (lba2 === lba1) {
        constants.SHMLBA_BYTES = lba1;
        notes.push(`SHMLBA is a fixed ${lba1} bytes (SHMLBA_BYTES): the libc macro does not depend on the page size.`);
      } else {
        throw new Error(`${config.name}: SHMLBA is neither pages nor bytes (${lba1}, ${lba2})`);
      }
    }

    // Symbols: the undefined symbols the object references for each entry point.
    const symbol = (name: string) => {
      const matches = elf.undefinedSymbols.filter((s) => s === name || s.startsWith(`__${name}`));
      if (matches.length !== 1) throw new Error(`${config.name}: cannot tell the symbol for ${name}: [${matches.join(', ')}]`);
      return matches[0];
    };
    const symbols = {
      shmget: symbol('shmget'),
      shmat: symbol('shmat'),
      shmdt: symbol('shmdt'),
      shmctl: symbol('shmctl'),
      semget: symbol('semget'),
      semop: symbol('semop'),
      semtimedop: symbol('semtimedop'),
      semctl: symbol('semctl'),
      msgget: symbol('msgget'),
      msgsnd: symbol('msgsnd'),
      msgrcv: symbol('msgrcv'),
      msgctl: symbol('msgctl'),
    };

    // 32-bit targets: libc does not pass its *_ds buffer through when the layouts differ (glibc time64's
    // __shmctl64/__semctl64/__msgctl64 convert from the kernel's *64_ds); the library only sees the libc layout.
    if (pointerSize === 4) {
      const pairs = [
        ['shmid_ds', structs.shmid_ds, 'shmid64_ds', kernelStructs.shmid64_ds, symbols.shmctl],
        ['semid_ds', structs.semid_ds, 'semid64_ds', kernelStructs.semid64_ds, symbols.semctl],
        ['msqid_ds', structs.msqid_ds, 'msqid64_ds', kernelStructs.msqid64_ds, symbols.msgctl],
      ] as const;
      for (const [lname, ls, kname, ks, sym] of pairs) {
        const moved = dataFields(lname).filter((f) => ls.fields[f]?.offset !== ks.fields[f]?.offset || ls.fields[f]?.size !== ks.fields[f]?.size);
        if (ls.size === ks.size && moved.length === 0) continue;
        notes.push(
          `${lname}: the libc layout (${ls.size} bytes) differs from the kernel's ${kname} (${ks.size} bytes) in ${moved.join(', ') || 'size'}; ` +
            `${sym} converts between the two, so the tables describe the libc layout.`,
        );
      }
    }

    // Provenance.
    const compilerVersion = libc.texts.get('info.compiler')?.[0] ?? '?';
    const glibc = libc.nums.has('info.glibc_major') ? `glibc ${num('info.glibc_major')}.${num('info.glibc_minor')}` : undefined;
    const libcPkg = dpkgVersion(config.libcPackage, root);
    const musl = config.libc === 'musl' ? `musl ${libcPkg?.replace(/-.*$/, '') ?? '?'}` : undefined;
    const kv =
      kernel.nums.get('info.linux_version_major') !== undefined
        ? `${kernel.nums.get('info.linux_version_major')}.${kernel.nums.get('info.linux_version_patchlevel')}.${kernel.nums.get('info.linux_version_sublevel')}`
        : (() => {
            const c = kernel.nums.get('info.linux_version_code') ?? 0;
            return `${c >> 16}.${(c >> 8) & 255}.${c & 255}`;
          })();
    const kernelPkg = dpkgVersion(config.kernelPackage, root);
    const ccName = options.cc ?? config.cc;
    const where = root === '/' ? '' : ` in a Debian ${readFileSync(join(root, 'etc', 'debian_version'), 'utf8').trim()} chroot`;

    const sizeofTimeT = num('info.sizeof_time_t');
    return {
      target: config.name,
      arch: config.arch,
      libc: config.libc,
      littleEndian,
      pointerSize,
      sizeofLong: num('info.sizeof_long'),
      sizeofTimeT,
      time64: sizeofTimeT === 8,
      symbols,
      structs,
      kernelStructs,
      constants,
      errno,
      syscalls,
      fromKernelHeaders,
      notes,
      provenance: {
        compiler: `${ccName} (gcc ${compilerVersion})${where}`,
        flags: config.flags,
        libcHeaders: `${glibc ?? musl} headers${libcPkg ? ` (${config.libcPackage} ${libcPkg})` : ''}`,
        kernelHeaders: `Linux ${kv} uapi headers${kernelPkg ? ` (${config.kernelPackage} ${kernelPkg})` : ''}`,
      },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------
// Comparing (the --check mode and the host test)
// ---------------------------------------------------------------------------

/** Field-by-field differences between two descriptions, provenance excluded. */
export function compareDescriptions(committed: AbiDescription, probed: AbiDescription): string[] {
  const diffs: string[] = [];
  const walk = (a: unknown, b: unknown, path: string) => {
    if (path === 'provenance') return;
    if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
      const keys = new Set([...Object.keys(a as object), ...Object.keys(b as object)]);
      for (const k of [...keys].sort()) {
        walk((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], path ? `${path}.${k}` : k);
      }
      return;
    }
    if (a !== b) diffs.push(`${path}: committed ${JSON.stringify(a)}, probed ${JSON.stringify(b)}`);
  };
  walk(committed, probed, '');
  return diffs;
}

// ---------------------------------------------------------------------------
// Rendering the generated files
// ---------------------------------------------------------------------------

/** TS source text for a value: small flat objects on one line, the rest indented. */
function render(value: unknown, indent = ''): string {
  if (typeof value === 'string') return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  const inner = indent + '  ';
  const key = (k: string) => (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(k) ? k : `'${k}'`);
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    const flat = `[${value.map((v) => render(v)).join(', ')}]`;
    if (flat.length <= 100 && value.every((v) => typeof v !== 'object' || v === null) && !flat.includes('\n')) return flat;
    return `[\n${value.map((v) => inner + render(v, inner)).join(',\n')},\n${indent}]`;
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) return '{}';
  const flatOk = entries.every(([, v]) => v === null || typeof v !== 'object');
  const flat = `{ ${entries.map(([k, v]) => `${key(k)}: ${render(v)}`).join(', ')} }`;
  if (flatOk && flat.length <= 100) return flat;
  return `{\n${entries.map(([k, v]) => `${inner}${key(k)}: ${render(v, inner)}`).join(',\n')},\n${indent}}`;
}

/** The first line of every generated file (the form Go tools and linguist recognise). */
export const GENERATED_MARK = '// Code generated by scripts/abi/generate.ts; DO NOT EDIT.';

/** The generated mark, then where the table comes from: the probe and the compiler and headers that built it. */
export function headerLine(d: AbiDescription): string {
  const p = d.provenance;
  const flags = p.flags.length ? ` ${p.flags.join(' ')}` : '';
  return `${GENERATED_MARK}\n// From scripts/abi/probe.c with ${p.compiler}${flags}, ${p.libcHeaders}, ${p.kernelHeaders}.`;
}

export function renderTargetFile(d: AbiDescription): string {
  return `${headerLine(d)}
import type { AbiDescription } from '../types.js';

const description: AbiDescription = ${render(d)};

export default description;
`;
}

export function moduleIdent(target: string): string {
  return target.replace(/[^A-Za-z0-9]/g, '_');
}

export function renderRegistry(targets: string[]): string {
  const sorted = [...targets].sort();
  return `${GENERATED_MARK}
// The registry of the tables next to it, each from scripts/abi/probe.c.
import type { AbiDescription } from '../types.js';
${sorted.map((t) => `import ${moduleIdent(t)} from './${t}.js';`).join('\n')}

/** Every generated target table, by target name. */
export const targets: Readonly<Record<string, AbiDescription>> = {
${sorted.map((t) => `  '${t}': ${moduleIdent(t)},`).join('\n')}
};

/** Targets with no table, and why. */
export const unavailable: Readonly<Record<string, string>> = ${render(UNAVAILABLE)};
`;
}
