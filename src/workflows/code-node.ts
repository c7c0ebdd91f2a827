import { Worker } from 'node:worker_threads';
import type { Scope } from './template.js';

/**
 * Runs a `code` node's JavaScript off the main thread: a fresh worker thread per run, with a heap limit, terminated
 * when the time limit passes, so that an endless loop or a runaway allocation costs that run and never the server.
 * Inside the thread the code runs in a vm context of its own realm: the variables arrive as JSON text and are parsed
 * there, so no object of the thread's realm (and no `process`, `require` or timer) is within the code's reach.
 */

export interface CodeResult {
  ok: boolean;
  output: unknown;
  logs: string[];
  error: string | null;
}

// CommonJS, run with eval: nothing to resolve on disk, the same from src/ (tests) and dist/.
const THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const vm = require('node:vm');
const context = vm.createContext({ __scope: workerData.scope }, { codeGeneration: { strings: false, wasm: false } });
const wrapped = '(async () => {'
  + 'const __input = JSON.parse(__scope); delete globalThis.__scope;'
  + 'const $context = __input.$context, $jobsMapByNodeKey = __input.$jobsMapByNodeKey, $env = __input.$env;'
  + 'const __logs = [];'
  + 'const __log = (...parts) => { if (__logs.length < 100) __logs.push(parts.map((p) => typeof p === "string" ? p : JSON.stringify(p)).join(" ").slice(0, 2000)); };'
  + 'const console = { log: __log, info: __log, warn: __log, error: __log, debug: __log };'
  + 'const __result = await (async () => {\\n' + workerData.source + '\\n})();'
  + 'return JSON.stringify({ output: __result === undefined ? null : __result, logs: __logs });'
  + '})()';
(async () => {
  try {
    const script = new vm.Script(wrapped, { filename: 'code-node.js' });
    const text = await script.runInContext(context, { timeout: workerData.timeoutMs });
    parentPort.postMessage({ ok: true, text });
  } catch (err) {
    parentPort.postMessage({ ok: false, error: (err && err.name ? err.name + ': ' : '') + (err && err.message !== undefined ? err.message : String(err)) });
  }
})();
`;

export interface CodeRun {
  source: string;
  scope: Scope;
  timeoutMs: number;
  memoryMb: number;
}

export function runCode({ source, scope, timeoutMs, memoryMb }: CodeRun): Promise<CodeResult> {
  return new Promise((resolve) => {
    let settled = false;
    const worker = new Worker(THREAD, {
      eval: true,
      workerData: { source, scope: JSON.stringify(scope), timeoutMs },
      // No environment (secrets) and a heap of its own size; the young generation is kept small so the limit is the heap.
      env: {},
      resourceLimits: { maxOldGenerationSizeMb: memoryMb, maxYoungGenerationSizeMb: Math.min(16, Math.max(1, Math.floor(memoryMb / 4))) },
      stdout: true,
      stderr: true,
    });
    const finish = (result: CodeResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      resolve(result);
    };
    const fail = (error: string) => finish({ ok: false, output: null, logs: [], error });
    // The vm timeout stops a synchronous loop; this one also covers awaits that never settle.
    const timer = setTimeout(() => fail(`the code ran longer than its time limit of ${timeoutMs} ms`), timeoutMs + 50);
    worker.on('message', (message: { ok: boolean; text?: string; error?: string }) => {
      if (!message.ok) {
        const timedOut = /Script execution timed out/.test(message.error ?? '');
        fail(timedOut ? `the code ran longer than its time limit of ${timeoutMs} ms` : message.error ?? 'the code failed');
        return;
      }
      try {
        const { output, logs } = JSON.parse(message.text ?? 'null') as { output: unknown; logs: string[] };
        finish({ ok: true, output, logs, error: null });
      } catch {
        fail('the code returned something that is not JSON');
      }
    });
    worker.on('error', (err: Error & { code?: string }) => {
      fail(err.code === 'ERR_WORKER_OUT_OF_MEMORY' ? `the code ran out of memory (limit ${memoryMb} MB)` : `the code crashed: ${err.message}`);
    });
    // A thread whose event loop empties before the code settled was awaiting something that can never happen.
    worker.on('exit', (code) => fail(code === 0 ? 'the code awaited a promise that never settles' : `the code's thread exited with code ${code}`));
  });
}
