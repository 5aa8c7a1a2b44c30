// koffi, loaded on first use. Importing sysv-shm must work everywhere, also where koffi has no prebuilt binary
// (s390x, mips64el): there the first call that needs libc throws an error naming the platform.
import { createRequire } from 'node:module';
import type Koffi from 'koffi';

export type KoffiModule = typeof Koffi;

let loaded: KoffiModule | undefined;

export function koffi(): KoffiModule {
  if (loaded) return loaded;
  try {
    loaded = createRequire(import.meta.url)('koffi') as KoffiModule;
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message.split('\n')[0] : String(cause);
    throw new Error(
      `sysv-shm cannot call the C library on ${process.platform}/${process.arch}: its FFI, koffi, has no binary for this platform (${reason}). ` +
        'koffi ships binaries for Linux x64, ia32, arm64, arm (hard float), riscv64, ppc64le and loong64',
      { cause },
    );
  }
  return loaded;
}
