// npm run repl: a Node REPL with sysv-shm loaded, where TypeScript works (types are stripped with esbuild, which
// tsx brings along). History: ~/.sysv_shm_repl_history, or $SYSV_SHM_REPL_HISTORY ('' turns it off).
import { transformSync } from 'esbuild';
import { startSession } from '../lib/repl/session.js';

/** TypeScript to JavaScript, one REPL input at a time; top-level await is kept for the REPL to handle. */
function stripTypes(code: string): string {
  try {
    return transformSync(code, { loader: 'ts', target: 'esnext', tsconfigRaw: { compilerOptions: { useDefineForClassFields: true } } }).code;
  } catch (error) {
    const errors = (error as { errors?: Array<{ text: string }> }).errors ?? [];
    // More lines may complete the input: `function f(a: number) {`, an open string template, ...
    const incomplete = errors.length > 0 && errors.every((e) => /end of file/i.test(e.text));
    throw Object.assign(new SyntaxError(errors[0]?.text ?? String(error)), { incomplete });
  }
}

const { closed } = startSession({ transform: stripTypes });
await closed;
process.exit(0);
