// The consumer portal: one app's endpoints, messages and event catalog, for that app's customer, opened from a URL
// an operator minted (POST /api/v1/apps/:app/portal-access) and often shown in an iframe of the operator's product.
import { ApiError } from '../../../dashboard/js/api.js';
import { errorBox, h, loading, replace, time, toast } from '../../../dashboard/js/dom.js';
import { parseHash } from '../../../dashboard/js/nav.js';
import { catalogView } from './catalog.js';
import { forgetToken, get, takeToken } from './client.js';
import { endpointFormView, endpointsView, endpointView } from './endpoints.js';
import { messagesView, messageView } from './messages.js';

const main = document.getElementById('main');
const FORBIDDEN_HINT = 'This portal session cannot do that.';

/** [pattern, view, nav section, writes (hidden from a read-only session)]. Capture groups become `params`. */
const ROUTES = [
  [/^\/$/, endpointsView, 'endpoints', false],
  [/^\/endpoints\/new$/, endpointFormView, 'endpoints', true],
  [/^\/endpoints\/([^/]+)\/edit$/, endpointFormView, 'endpoints', true],
  [/^\/endpoints\/([^/]+)$/, endpointView, 'endpoints', false],
  [/^\/messages$/, messagesView, 'messages', false],
  [/^\/messages\/([^/]+)$/, messageView, 'messages', false],
  [/^\/event-types$/, catalogView, 'event-types', false],
];

/** `{app: {id, uid, name, portal}, expiresAt, readOnly}` once the token is accepted. */
let session = null;
let current = null;

async function route() {
  if (!session) return;
  current?.abort();
  const controller = new AbortController();
  current = controller;
  const { path, query } = parseHash();
  const match = ROUTES.map(([pattern, view, section, writes]) => ({ m: pattern.exec(path), view, section, writes })).find((r) => r.m);
  for (const link of document.querySelectorAll('[data-nav]')) {
    if (link.dataset.nav === match?.section) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  if (!match || (match.writes && session.readOnly)) {
    replace(main, errorBox(new ApiError(404, 'not_found', `No page at #${path}.`)), h('p', {}, h('a', { href: '#/' }, 'Go to your endpoints')));
    return;
  }
  const ctx = {
    params: match.m.slice(1).map((p) => (p === undefined ? undefined : decodeURIComponent(p))),
    query,
    session,
    signal: controller.signal,
    root: main,
    setTitle: (title) => { document.title = `${title} · ${session.app.name} webhooks`; },
  };
  replace(main, loading());
  try {
    await match.view(ctx);
  } catch (err) {
    if (err?.name === 'AbortError' || controller.signal.aborted) return;
    if (err?.status === 401) return ended();
    replace(main, errorBox(err, { forbiddenHint: FORBIDDEN_HINT }));
  }
}

/** The session is over (expired or revoked): say so, and that the operator's product opens a new one. */
function ended(message = 'This portal session has expired or was revoked.') {
  forgetToken();
  session = null;
  document.getElementById('nav').hidden = true;
  document.getElementById('session').hidden = true;
  document.title = 'Session ended';
  replace(main, h('div', { class: 'card expired', role: 'alert' },
    h('h1', {}, 'Session ended'),
    h('p', {}, message),
    h('p', { class: 'muted' }, 'Open the webhooks page again from the product that sent you here to start a new session.')));
  main.focus();
}

/** The app's colour becomes the accent; its text colour is whichever of black and white reads better on it. */
function applyTheme({ color, logoUrl }) {
  if (color) {
    const [r, g, b] = [1, 3, 5].map((i) => parseInt(color.slice(i, i + 2), 16) / 255);
    const luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b;
    document.documentElement.style.setProperty('--accent', color);
    document.documentElement.style.setProperty('--accent-text', luminance > 0.55 ? '#11141a' : '#ffffff');
    document.documentElement.style.setProperty('--accent-soft', `${color}22`);
  }
  const logo = document.getElementById('logo');
  if (logoUrl) {
    logo.src = logoUrl;
    logo.hidden = false;
    logo.addEventListener('error', () => { logo.hidden = true; }, { once: true });
  }
}

async function boot() {
  if (!takeToken()) return ended('This page needs a portal link with a session token.');
  try {
    session = await get('/api/v1/portal/session');
  } catch (err) {
    if (err?.status === 401 || err?.status === 403) return ended();
    replace(main, errorBox(err));
    return;
  }
  applyTheme(session.app.portal ?? {});
  document.getElementById('app-name').textContent = session.app.name;
  document.getElementById('nav').hidden = false;
  const who = document.getElementById('who');
  who.replaceChildren(...[session.readOnly ? 'Read-only · ' : '', session.expiresAt ? ['Session ends ', time(session.expiresAt)] : ''].flat());
  document.getElementById('session').hidden = false;
  // An expired session is told as soon as it ends, not at the next click.
  if (session.expiresAt) {
    const left = Date.parse(session.expiresAt) - Date.now();
    if (left < 2 ** 31) setTimeout(() => ended('This portal session has expired.'), Math.max(0, left));
  }
  window.addEventListener('hashchange', route);
  window.addEventListener('hookyard:reroute', route);
  await route();
}

document.querySelector('.skip-link').addEventListener('click', (event) => {
  event.preventDefault();
  main.focus();
});
window.addEventListener('unhandledrejection', (event) => {
  if (event.reason?.name === 'AbortError') {
    event.preventDefault();
    return;
  }
  if (event.reason instanceof ApiError) {
    event.preventDefault();
    if (event.reason.status === 401) ended();
    else toast(event.reason.message, 'bad');
  }
});


boot();
