#!/usr/bin/env node
import { existsSync } from 'node:fs';

// The built CLI; `npm install` builds it (prepare). A clear line beats a module-not-found stack.
const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  console.error('hookyard: dist/ is missing; run `npm install` (or `npm run build`) first');
  process.exit(1);
}
await import(entry.href);
