import { readFileSync } from 'node:fs';

// Resolves to package.json from both src/ and dist/.
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

export const VERSION: string = pkg.version;
export const USER_AGENT = `Hookyard/${VERSION}`;
