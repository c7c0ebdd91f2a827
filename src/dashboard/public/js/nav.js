// Navigation helpers shared by the views (the router itself lives in main.js).
import { withQuery } from './api.js';

export function parseHash() {
  const hash = location.hash.replace(/^#/, '') || '/';
  const at = hash.indexOf('?');
  const path = at === -1 ? hash : hash.slice(0, at);
  const query = at === -1 ? '' : hash.slice(at + 1);
  return { path: path || '/', query: Object.fromEntries(new URLSearchParams(query)) };
}

/** Goes to `#path`; re-renders when already there. */
export function navigate(path) {
  if (location.hash === `#${path}`) window.dispatchEvent(new Event('hookyard:reroute'));
  else location.hash = path;
}

/** Replaces the query part of the hash without a history entry and without re-rendering (filters keep state in the URL). */
export function setQuery(query) {
  const { path } = parseHash();
  history.replaceState(null, '', `#${withQuery(path, query)}`);
}
