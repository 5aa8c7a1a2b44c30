// Child program: the library on a platform koffi has no binary for (s390x, mips64el), simulated by making
// require('koffi') fail the way koffi does there. Importing must work; the first call must say why it cannot.
// Prints "results <json>".
import Module from 'node:module';

const loader = Module as unknown as { _load(request: string, ...rest: unknown[]): unknown };
const load = loader._load;
loader._load = function (request: string, ...rest: unknown[]) {
  if (request === 'koffi') throw new Error('Cannot find the native Koffi module; did you compile it?');
  return load.call(this, request, ...rest);
};

const lib = await import('../../../lib/index.js');
const attempt = (call: () => unknown) => {
  try {
    call();
    return 'no error';
  } catch (error) {
    return `${(error as Error).constructor.name}: ${(error as Error).message}`;
  }
};
console.log(
  'results ' +
    JSON.stringify({
      IPC_CREAT: lib.IPC_CREAT,
      target: lib.hostTarget(),
      shmget: attempt(() => lib.shmget(lib.IPC_PRIVATE, 4096, lib.IPC_CREAT | 0o600)),
      create: attempt(() => lib.Segment.create({ size: 4096 })),
    }),
);
