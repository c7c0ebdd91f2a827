import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../src/errors.js';

describe('error code registry', () => {
  it('documents every code with its status in docs/errors.md', () => {
    const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
    const documented = new Map([...doc.matchAll(/^\| `(\w+)` \| (\d{3}) \|/gm)].map((m) => [m[1]!, Number(m[2])]));
    for (const [code, { status }] of Object.entries(ERROR_CODES)) expect({ code, status: documented.get(code) }).toEqual({ code, status });
    expect([...documented.keys()].sort()).toEqual(Object.keys(ERROR_CODES).sort());
  });
});
