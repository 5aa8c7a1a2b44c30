// TypeScript at the REPL prompt. Node strips types itself where it can (module.stripTypeScriptTypes, Node >= 22.13;
// on 22 and 24 its 'transform' mode also turns enums and namespaces into JavaScript); in a checkout on an older
// Node, esbuild (a development dependency) does it; elsewhere the prompt takes JavaScript only.
import * as nodeModule from 'node:module';

/**
 * Turns one input into JavaScript. Throws a SyntaxError on bad input; one with `incomplete: true` means more
 * lines may complete it (`function f(a: number) {`), and the REPL asks for them.
 */
export type Transform = (code: string) => string;

type StripTypes = (code: string, options: { mode: 'strip' | 'transform' }) => string;
type EsbuildTransform = (code: string, options: object) => { code: string };

function syntaxError(message: string, incomplete: boolean): SyntaxError {
  return Object.assign(new SyntaxError(message), { incomplete });
}

function fromNode(strip: StripTypes): Transform {
  let mode: 'strip' | 'transform' | undefined;
  return (code) => {
    // The first call prints an ExperimentalWarning: the user asked for TypeScript here, so keep the prompt clean.
    const emitWarning = process.emitWarning;
    if (mode === undefined) {
      process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
        if (!String(typeof warning === 'string' ? warning : warning.message).includes('stripTypeScriptTypes')) {
          (emitWarning as (...args: unknown[]) => void).call(process, warning, ...rest);
        }
      }) as typeof process.emitWarning;
      // 'transform' (enums, namespaces) exists in Node 22 and 24 only; Node 26 strips.
      try {
        strip('', { mode: 'transform' });
        mode = 'transform';
      } catch {
        mode = 'strip';
      }
    }
    try {
      return strip(code, { mode });
    } catch (error) {
      const message = (error as Error).message.split('\n')[0];
      throw syntaxError(message, /<eof>|Unterminated|Unexpected eof/i.test(message));
    } finally {
      process.emitWarning = emitWarning;
    }
  };
}

function fromEsbuild(transformSync: EsbuildTransform): Transform {
  return (code) => {
    try {
      return transformSync(code, { loader: 'ts', target: 'esnext', tsconfigRaw: { compilerOptions: { useDefineForClassFields: true } } }).code;
    } catch (error) {
      const errors = (error as { errors?: Array<{ text: string }> }).errors ?? [];
      throw syntaxError(errors[0]?.text ?? String(error), errors.length > 0 && errors.every((e) => /end of file/i.test(e.text)));
    }
  };
}

/** The best TypeScript transform this Node has, and what provides it; undefined when there is none. */
export function typeScriptTransform(): { transform: Transform; by: string } | undefined {
  const strip = (nodeModule as { stripTypeScriptTypes?: StripTypes }).stripTypeScriptTypes;
  if (typeof strip === 'function') return { transform: fromNode(strip), by: 'Node' };
  try {
    const esbuild = nodeModule.createRequire(import.meta.url)('esbuild') as { transformSync: EsbuildTransform };
    return { transform: fromEsbuild(esbuild.transformSync), by: 'esbuild' };
  } catch {
    return undefined;
  }
}
