/** The JSON paths a source's settings may name (dedup, ordering): `$` then `.name` and `[index]` steps. */
const JSON_PATH = /^\$(\.[A-Za-z0-9_$-]+|\[\d+\])+$/;

export const isJsonPath = (path: string): boolean => JSON_PATH.test(path);

/** The value at `path` in parsed JSON, or undefined; own properties only, so `$.constructor` finds nothing. */
export function valueAtJsonPath(root: unknown, path: string): unknown {
  let value = root;
  for (const [, name, index] of path.matchAll(/\.([A-Za-z0-9_$-]+)|\[(\d+)\]/g)) {
    const key = index ?? name!;
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}
