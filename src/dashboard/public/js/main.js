// The single page: login, navigation, the hash router and keyboard shortcuts.
import { ApiError, get, getSession, seg, setSession } from './api.js';
import { navigate, parseHash } from './nav.js';
import { errorBox, field, h, loading, replace, toast } from './dom.js';
import { overviewView } from './views/overview.js';
import { sourceFormView, sourcesView } from './views/sources.js';
import { inspectorView } from './views/inspector.js';
import { appView, appsView } from './views/apps.js';
import { endpointFormView, endpointView } from './views/endpoints.js';
import { messageView, sendMessageView } from './views/messages.js';
import { executionView, workflowFormView, workflowView, workflowsView } from './views/workflows.js';

const main = document.getElementById('main');

/** [pattern, view, nav section, admin only]. The first capture groups become `params`. */
const ROUTES = [
  [/^\/$/, overviewView, 'overview', true],
  [/^\/sources$/, sourcesView, 'sources', true],
  [/^\/sources\/new$/, sourceFormView, 'sources', true],
  [/^\/sources\/([^/]+)\/edit$/, sourceFormView, 'sources', true],
  [/^\/sources\/([^/]+)(?:\/requests\/([^/]+))?$/, inspectorView, 'sources', true],
  [/^\/workflows$/, workflowsView, 'workflows', true],
  [/^\/workflows\/new$/, workflowFormView, 'workflows', true],
  [/^\/workflows\/([^/]+)\/edit$/, workflowFormView, 'workflows', true],
  [/^\/workflows\/([^/]+)\/executions\/([^/]+)$/, executionView, 'workflows', true],
  [/^\/workflows\/([^/]+)$/, workflowView, 'workflows', true],
  [/^\/apps$/, appsView, 'apps', true],
  [/^\/apps\/([^/]+)\/endpoints\/new$/, endpointFormView, 'apps', false],
  [/^\/apps\/([^/]+)\/endpoints\/([^/]+)\/edit$/, endpointFormView, 'apps', false],
  [/^\/apps\/([^/]+)\/endpoints\/([^/]+)$/, endpointView, 'apps', false],
  [/^\/apps\/([^/]+)\/messages\/new$/, sendMessageView, 'apps', false],
  [/^\/apps\/([^/]+)\/messages\/([^/]+)$/, messageView, 'apps', false],
  [/^\/apps\/([^/]+)(?:\/(endpoints|messages|keys))?$/, appView, 'apps', false],
];

/** The view on screen: its key (view + first param), its abort controller and its optional `update`. */
let current = null;

async function route() {
  const session = getSession();
  if (!session) return showLogin();
  const { path, query } = parseHash();
  // An app key has one app: its home is that app.
  if (session.role === 'app' && (path === '/' || path === '/apps')) return navigate(`/apps/${seg(session.app)}`);
  const match = ROUTES.map(([pattern, view, section, adminOnly]) => ({ m: pattern.exec(path), view, section, adminOnly })).find((r) => r.m);
  markNav(match?.section);
  if (!match) {
    stop();
    replace(main, errorBox(new ApiError(404, 'not_found', `No page at #${path}.`)), h('p', {}, h('a', { href: '#/' }, 'Go to the overview')));
    return;
  }
  const params = match.m.slice(1).map((p) => (p === undefined ? undefined : safeDecode(p)));
  const key = `${match.view.name}:${params[0] ?? ''}`;
  if (current?.key === key && current.update) {
    current.update(params, query);
    return;
  }
  stop();
  const controller = new AbortController();
  current = { key, controller, update: null };
  const ctx = {
    params,
    query,
    session,
    signal: controller.signal,
    root: main,
    setTitle: (title) => { document.title = `${title} · Hookyard`; },
  };
  replace(main, loading());
  try {
    const handle = await match.view(ctx);
    if (current?.controller === controller && handle?.update) current.update = handle.update;
  } catch (err) {
    if (err?.name === 'AbortError' || controller.signal.aborted) return;
    replace(main, errorBox(err));
  }
}

function safeDecode(text) {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function stop() {
  current?.controller.abort();
  current = null;
}

function markNav(section) {
  for (const link of document.querySelectorAll('[data-nav]')) {
    if (link.dataset.nav === section) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
}

function showChrome(session) {
  const nav = document.getElementById('nav');
  nav.hidden = !session;
  document.getElementById('session').hidden = !session;
  for (const item of nav.querySelectorAll('[data-role="admin"]')) item.hidden = session?.role !== 'admin';
  document.getElementById('who').textContent = session ? (session.role === 'admin' ? 'Admin' : `App key · ${session.app}`) : '';
}

// ---- login ----

function showLogin(message) {
  stop();
  showChrome(null);
  document.title = 'Sign in · Hookyard';
  const token = h('input', { type: 'password', name: 'token', autocomplete: 'current-password', required: true, spellcheck: 'false' });
  const app = h('input', { type: 'text', name: 'app', autocomplete: 'off', spellcheck: 'false', placeholder: 'app_… or your uid' });
  const error = h('div', { role: 'alert', class: 'form-error' });
  const submit = h('button', { type: 'submit', class: 'btn primary' }, 'Sign in');
  const form = h('form', { class: 'card login', novalidate: true },
    h('h1', {}, 'Sign in to Hookyard'),
    h('p', { class: 'muted' }, 'Use the admin token (HOOKYARD_ADMIN_TOKEN), or an app key together with its app. The token stays in this tab only (session storage) and is sent as a Bearer token with each API call.'),
    field('Token', token, null, { required: true }),
    field('App (only with an app key)', app, 'The id or uid of the app the key belongs to. Leave empty with the admin token.'),
    error,
    h('div', { class: 'actions' }, submit));
  if (message) error.append(h('p', { class: 'panel panel-error' }, message));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.textContent = '';
    const value = token.value.trim();
    const appId = app.value.trim();
    if (!value) {
      error.append(h('p', { class: 'panel panel-error' }, 'Enter a token.'));
      token.focus();
      return;
    }
    submit.disabled = true;
    try {
      const session = await signIn(value, appId);
      setSession(session);
      showChrome(session);
      if (!location.hash || location.hash === '#' || location.hash === '#/login') navigate('/');
      else route();
    } catch (err) {
      error.append(h('p', { class: 'panel panel-error' }, err.message));
      token.focus();
    } finally {
      submit.disabled = false;
    }
  });
  replace(main, form);
  token.focus();
}

async function signIn(token, appId) {
  const explain = (err) => {
    if (err.status === 401) return new Error('That token was not accepted.');
    return err;
  };
  if (appId) {
    try {
      const app = await get(`/api/v1/apps/${seg(appId)}`, { token });
      return { token, app: app.uid ?? app.id, appId: app.id, role: 'app' };
    } catch (err) {
      if (err.status === 404) throw new Error(`No app "${appId}" is visible with this token.`);
      throw explain(err);
    }
  }
  try {
    await get('/api/v1/apps?limit=1', { token });
    return { token, app: null, role: 'admin' };
  } catch (err) {
    if (err.status === 403) throw new Error('This is an app key: enter its app (id or uid) as well.');
    throw explain(err);
  }
}

function signOut() {
  setSession(null);
  history.replaceState(null, '', '#/');
  showLogin();
}

// ---- keyboard ----

let pendingG = 0;

function typing(target) {
  return target instanceof HTMLElement && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
}

function onKey(event) {
  if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
  const help = document.getElementById('help');
  if (typing(event.target) || help.open) return;
  if (!getSession()) return;
  const key = event.key;
  if (pendingG && Date.now() - pendingG < 1500) {
    pendingG = 0;
    const target = { o: '/', s: '/sources', w: '/workflows', a: '/apps' }[key];
    if (target) {
      event.preventDefault();
      navigate(target);
    }
    return;
  }
  if (key === 'g') pendingG = Date.now();
  else if (key === '?') {
    event.preventDefault();
    help.showModal();
  } else if (key === '/') {
    const first = main.querySelector('[data-filter]') ?? main.querySelector('input:not([type=hidden]):not([readonly]), select, textarea');
    if (first) {
      event.preventDefault();
      first.focus();
    }
  } else if (key === 'r') {
    event.preventDefault();
    stop();
    route();
  } else if (['j', 'k', 'ArrowDown', 'ArrowUp'].includes(key)) {
    moveInList(event, key === 'j' || key === 'ArrowDown' ? 1 : -1);
  }
}

/** Moves focus between the items of the list that holds the focus (or the first list on the page). */
function moveInList(event, step) {
  const active = document.activeElement;
  const list = active?.closest('[data-list]') ?? main.querySelector('[data-list]');
  if (!list) return;
  const items = [...list.querySelectorAll('[data-item]')].filter((el) => el.offsetParent !== null);
  if (items.length === 0) return;
  const index = items.indexOf(active?.closest('[data-item]'));
  const next = items[index === -1 ? (step > 0 ? 0 : items.length - 1) : Math.max(0, Math.min(items.length - 1, index + step))];
  event.preventDefault();
  next?.focus();
}

// ---- boot ----

window.addEventListener('hashchange', route);
window.addEventListener('hookyard:reroute', () => {
  stop();
  route();
});
window.addEventListener('keydown', onKey);
window.addEventListener('hookyard:unauthorized', () => {
  if (!getSession()) return;
  setSession(null);
  showLogin('The token is no longer accepted: sign in again.');
});
document.getElementById('signout').addEventListener('click', signOut);
document.querySelector('[data-close-help]').addEventListener('click', () => document.getElementById('help').close());
document.querySelector('[data-skip]').addEventListener('click', (event) => {
  event.preventDefault();
  main.focus();
});
window.addEventListener('unhandledrejection', (event) => {
  // A view's background refresh that failed: say so instead of failing silently.
  if (event.reason?.name === 'AbortError') {
    event.preventDefault();
    return;
  }
  if (event.reason instanceof ApiError) {
    event.preventDefault();
    toast(event.reason.message, 'bad');
  }
});

showChrome(getSession());
route();
