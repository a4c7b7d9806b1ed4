/**
 * What a runtime prints to this worker's console, read back as data. ONNX Runtime Web says several things only
 * there: which execution provider it dropped for being unavailable (a console.warn), why its WebGL backend did not
 * start (a console.log of its own logger), and its profile (the C++ profiler writes its JSON to stdout, which the
 * Emscripten module turns into console.log calls, one per line). Capturing is off except around the call that is
 * read; the wrapper otherwise passes everything through unchanged.
 */

export type ConsoleLevel = 'log' | 'info' | 'warn' | 'error' | 'debug';
export interface ConsoleLine {
  level: ConsoleLevel;
  text: string;
}
export type Captured<T> =
  { ok: true; value: T; lines: ConsoleLine[] } | { ok: false; error: unknown; lines: ConsoleLine[] };

const LEVELS: readonly ConsoleLevel[] = ['log', 'info', 'warn', 'error', 'debug'];
let installed = false;
let sink: { lines: ConsoleLine[]; quiet: boolean } | null = null;

/**
 * Wraps the console methods once. Must run before a runtime's wasm module is instantiated: Emscripten binds
 * `console.log` when its factory runs (`var out = console.log.bind(console)`), so a wrapper set later is never called.
 */
export function installConsoleTap(target: Console = console): void {
  if (installed) return;
  installed = true;
  for (const level of LEVELS) {
    const original = target[level].bind(target);
    target[level] = (...args: unknown[]) => {
      if (sink) sink.lines.push({ level, text: args.map(String).join(' ') });
      if (!sink?.quiet) original(...args);
    };
  }
}

/**
 * Runs `fn` and returns what was printed meanwhile, whether it resolved or threw. `quiet` keeps the lines off the
 * real console (a profile is hundreds of lines of data, not messages for a person). Captures don't nest: a worker
 * runs one cell, and its runtime calls are awaited one after another.
 */
export async function captureConsole<T>(fn: () => Promise<T>, quiet = false): Promise<Captured<T>> {
  if (sink) throw new Error('captureConsole: a capture is already open');
  const lines: ConsoleLine[] = [];
  sink = { lines, quiet };
  try {
    return { ok: true, value: await fn(), lines };
  } catch (error) {
    return { ok: false, error, lines };
  } finally {
    sink = null;
  }
}

/** Test hook: forget the installed wrapper (unit tests install it on a fake console each time). */
export function resetConsoleTapForTest(): void {
  installed = false;
  sink = null;
}
