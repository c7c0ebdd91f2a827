import { statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { register, type ScopedImport } from 'tsx/esm/api';
import type { HandlerFn } from './context.js';

/** A loaded handler file: its default export and its other function exports (per-event handlers). */
export interface HandlerModule {
  default?: HandlerFn;
  events: Record<string, HandlerFn>;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;
const EXTENSIONS = ['.ts', '.mjs', '.js', '.py'] as const;

/** A handler file found for a name: JavaScript/TypeScript (imported by Node) or Python (run by the Python pool). */
export interface ResolvedHandler {
  path: string;
  /** Changes whenever the file does (mtime and size). */
  version: string;
  kind: 'js' | 'python';
}

let scopedImport: ScopedImport | undefined;

/**
 * One namespaced tsx registration for the process. tsImport() would register a new loader hook on every call, and
 * on Node 20 those hooks can never be removed: they would pile up with each edit of a handler.
 */
function tsxImport(url: string): Promise<Record<string, unknown>> {
  scopedImport ??= register({ namespace: 'hookyard-handlers' }).import;
  return scopedImport(url, import.meta.url) as Promise<Record<string, unknown>>;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;

function toHandlerModule(namespace: Record<string, unknown>): HandlerModule {
  // Without "type": "module" above it, a file is compiled to CommonJS and its exports arrive as `default`.
  const exported = isObject(namespace.default) ? { ...namespace, ...namespace.default } : namespace;
  const module: HandlerModule = { events: {} };
  for (const [name, value] of Object.entries(exported)) {
    if (typeof value !== 'function') continue;
    if (name === 'default') module.default = value as HandlerFn;
    else module.events[name] = value as HandlerFn;
  }
  return module;
}

/**
 * Imports a handler file under a URL of its version, so that an edited file is imported again. Shared by the loader
 * (in-thread mode) and the handler threads (handler-thread.ts).
 */
export async function importHandlerModule(path: string, version: string): Promise<HandlerModule> {
  const url = `${pathToFileURL(path).href}?v=${encodeURIComponent(version)}`;
  try {
    return toHandlerModule(await tsxImport(url));
  } catch (err) {
    const cause = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    throw new Error(`failed to load handler ${path}: ${cause}`, { cause: err });
  }
}

/**
 * The first `<base>.ts|.mjs|.js|.py` that is a file. It runs on every request, so that an edited file is picked up at
 * once: a synchronous stat of a local directory's entry costs ~3 µs of this thread, where fs.promises.stat costs
 * ~40 µs (the thread-pool round trip, and an Error built for each missing extension: three of them for a Python file).
 */
function findFile(base: string): ResolvedHandler | null {
  for (const extension of EXTENSIONS) {
    const path = base + extension;
    let stats;
    try {
      stats = statSync(path, { throwIfNoEntry: false });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOTDIR') continue;
      throw new Error(`cannot read handler ${path}: ${(err as Error).message}`);
    }
    // Size as well as mtime: two saves within the file system's timestamp granularity still differ.
    if (stats?.isFile()) return { path, version: `${stats.mtimeMs}-${stats.size}`, kind: extension === '.py' ? 'python' : 'js' };
  }
  return null;
}

/**
 * Finds `<dir>/<name>.ts|.mjs|.js|.py` and loads JavaScript and TypeScript ones, without a build step. A changed file
 * is imported again under a new URL (Node never unloads the old version, so each edit keeps a little memory until
 * restart). Files the handler imports itself are not watched: they reload only with a restart.
 */
export class HandlerLoader {
  private readonly cache = new Map<string, { path: string; version: string; module: Promise<HandlerModule> }>();

  constructor(private readonly dir: string) {}

  /** The file a name stands for, without importing it (handler threads and the Python pool import it themselves). */
  async resolve(name: string): Promise<ResolvedHandler | null> {
    if (!NAME.test(name) || name.includes('..')) return null;
    const file = findFile(join(this.dir, name));
    if (file === null || file.kind !== 'js') this.cache.delete(name);
    return file;
  }

  /** The imported module of a JavaScript/TypeScript handler in this thread; null when there is none (or it is Python). */
  async load(name: string): Promise<HandlerModule | null> {
    const file = await this.resolve(name);
    return file === null || file.kind !== 'js' ? null : this.moduleOf(name, file);
  }

  /** Imports a resolved file in this thread, cached per name until the file changes. */
  moduleOf(name: string, file: ResolvedHandler): Promise<HandlerModule> {
    const cached = this.cache.get(name);
    if (cached !== undefined && cached.path === file.path && cached.version === file.version) return cached.module;
    // The promise is cached, failures included: a broken file is not imported again until it changes.
    const module = importHandlerModule(file.path, file.version);
    this.cache.set(name, { path: file.path, version: file.version, module });
    return module;
  }
}
