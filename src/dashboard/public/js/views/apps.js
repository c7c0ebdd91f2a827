// Apps (tenants): the list, and one app's endpoints, messages and keys.
import { del, get, post, seg, withQuery } from '../api.js';
import {
  append, busy, card, chip, confirmButton, copyButton, empty, errorBox, field, h, pageHead, pager, replace, showFormError,
  time, toast,
} from '../dom.js';
import { navigate, setQuery } from '../nav.js';

export async function appsView({ signal, setTitle, root }) {
  setTitle('Apps');
  const list = h('ul', { class: 'rows', 'data-list': '' });
  const more = pager(async (cursor) => {
    const page = await get(withQuery('/api/v1/apps', { limit: 50, cursor }), { signal });
    append(list, page.data.map(appRow));
    return page.nextCursor;
  });
  const first = await get('/api/v1/apps?limit=50', { signal });

  const name = h('input', { type: 'text', required: true, autocomplete: 'off' });
  const uidInput = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', placeholder: 'customer-42' });
  const error = h('div', { role: 'alert', class: 'form-error', hidden: true });
  const submit = h('button', { type: 'submit', class: 'btn primary' }, 'Create app');
  const form = h('form', { class: 'card form', novalidate: true, 'aria-labelledby': 'new-app' },
    h('h2', { id: 'new-app' }, 'New app'),
    h('div', { class: 'grid2' },
      field('Name', name, null, { required: true }),
      field('UID (optional)', uidInput, 'Your own id for this customer; usable wherever an app id is. Must not start with app_.')),
    error,
    h('div', { class: 'actions' }, submit));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.hidden = true;
    if (!name.value.trim()) {
      showFormError(error, new Error('Give the app a name.'));
      return;
    }
    await busy(submit, async () => {
      try {
        const app = await post('/api/v1/apps', { name: name.value.trim(), ...(uidInput.value.trim() ? { uid: uidInput.value.trim() } : {}) });
        toast(`Created ${app.name}.`);
        navigate(`/apps/${seg(app.id)}`);
      } catch (err) {
        showFormError(error, err);
      }
    });
  });

  replace(root,
    pageHead('Apps', { sub: 'Each app is one of your customers: its endpoints receive the messages you send it.' }),
    first.data.length ? list : empty('No apps yet.'),
    more.el,
    form);
  append(list, first.data.map(appRow));
  more.set(first.nextCursor);
}

function appRow(app) {
  const forwards = app.uid?.startsWith('hookyard-forward-');
  return h('li', { class: 'row' },
    h('div', { class: 'row-main' },
      h('a', { href: `#/apps/${seg(app.id)}`, class: 'row-title', 'data-item': '' }, app.name),
      h('p', { class: 'small mono muted' }, app.id, app.uid ? ` · uid ${app.uid}` : '')),
    h('div', { class: 'row-meta' },
      forwards ? chip('info', 'source forwards') : null,
      app.uid === 'hookyard-operational' ? chip('info', 'operational events') : null,
      h('span', { class: 'small muted' }, 'created ', time(app.createdAt))));
}

const TABS = [['endpoints', 'Endpoints'], ['messages', 'Messages'], ['keys', 'Keys']];

export async function appView({ params, query, session, signal, setTitle, root }) {
  const [appRef, tabParam] = params;
  const tab = tabParam ?? 'endpoints';
  const app = await get(`/api/v1/apps/${seg(appRef)}`, { signal });
  setTitle(app.name);
  const admin = session.role === 'admin';
  const href = (t) => `#/apps/${seg(appRef)}${t === 'endpoints' ? '' : `/${t}`}`;
  const tabs = h('nav', { class: 'tabs', 'aria-label': 'App sections' },
    TABS.filter(([t]) => admin || t !== 'keys').map(([t, label]) => h('a', { href: href(t), 'aria-current': t === tab ? 'page' : null }, label)));
  const body = h('div', { class: 'tab-body' });
  const deleteApp = admin
    ? confirmButton('Delete app', {
      danger: true,
      question: `Delete ${app.name} with its endpoints, messages and attempts?`,
      confirmLabel: 'Delete app',
      onConfirm: async () => {
        try {
          await del(`/api/v1/apps/${seg(app.id)}`);
          toast(`Deleted ${app.name}.`);
          navigate('/apps');
        } catch (err) {
          toast(err.message, 'bad');
        }
      },
    })
    : null;
  replace(root,
    pageHead(app.name, {
      crumbs: admin ? [['Apps', '#/apps'], [app.name]] : [[app.name]],
      sub: h('span', { class: 'mono small' }, app.id, app.uid ? ` · uid ${app.uid}` : ''),
      actions: [deleteApp].filter(Boolean),
    }),
    tabs,
    body);
  if (tab === 'messages') await messagesTab(app, appRef, query, signal, body);
  else if (tab === 'keys') await keysTab(app, signal, body);
  else await endpointsTab(app, appRef, signal, body);
}

async function endpointsTab(app, appRef, signal, body) {
  const list = h('ul', { class: 'rows', 'data-list': '' });
  const page = await get(`/api/v1/apps/${seg(app.id)}/endpoints?limit=250`, { signal });
  replace(body,
    h('div', { class: 'section-head' },
      h('h2', {}, 'Endpoints'),
      h('a', { class: 'btn primary', href: `#/apps/${seg(appRef)}/endpoints/new` }, 'New endpoint')),
    page.data.length ? list : empty('No endpoints yet: messages sent to this app go nowhere until one exists.'));
  append(list, page.data.map((ep) => endpointRow(appRef, ep)));
}

export function endpointState(ep) {
  if (ep.disabled) return chip('disabled', ep.disabledReason ? `disabled: ${ep.disabledReason}` : 'disabled');
  if (ep.failingSince) return chip('failed', 'failing');
  return chip('enabled', 'enabled');
}

function endpointRow(appRef, ep) {
  return h('li', { class: 'row' },
    h('div', { class: 'row-main' },
      h('a', { href: `#/apps/${seg(appRef)}/endpoints/${seg(ep.id)}`, class: 'row-title mono', 'data-item': '' }, ep.url),
      ep.description ? h('p', { class: 'small muted' }, ep.description) : null,
      h('p', { class: 'small' }, ep.eventTypes?.length ? `Events: ${ep.eventTypes.join(', ')}` : 'Every event type')),
    h('div', { class: 'row-meta' },
      endpointState(ep),
      ep.failingSince ? h('span', { class: 'small' }, 'failing since ', time(ep.failingSince)) : null,
      ep.rateLimit ? h('span', { class: 'small' }, `${ep.rateLimit}/s`) : null));
}

async function messagesTab(app, appRef, query, signal, body) {
  const eventTypes = await get('/api/v1/event-types?limit=250', { signal }).then((r) => r.data).catch(() => []);
  const filterInput = h('input', { type: 'search', value: query.eventType ?? '', list: 'msg-event-types', placeholder: 'any', 'data-filter': '', spellcheck: 'false', autocomplete: 'off' });
  const datalist = h('datalist', { id: 'msg-event-types' }, eventTypes.map((t) => h('option', { value: t.name })));
  const filterForm = h('form', { class: 'filter-bar', role: 'search', 'aria-label': 'Filter messages' },
    h('label', { class: 'inline-label' }, 'Event type ', filterInput), datalist,
    h('button', { type: 'submit', class: 'btn small' }, 'Filter'));
  const list = h('ol', { class: 'rows', 'data-list': '', 'aria-label': 'Messages, newest first' });
  const status = h('div', {});
  const base = `/api/v1/apps/${seg(app.id)}`;
  const endpoints = (await get(`${base}/endpoints?limit=250`, { signal })).data;
  const endpointUrl = new Map(endpoints.map((ep) => [ep.id, ep.url]));

  const more = pager((cursor) => loadPage(cursor));
  async function loadPage(cursor) {
    const page = await get(withQuery(`${base}/messages`, { limit: 25, cursor, eventType: filterInput.value.trim() }), { signal });
    const rows = page.data.map((msg) => messageRow(appRef, msg));
    append(list, rows.map((r) => r.el));
    if (!cursor) replace(status, page.data.length ? null : empty(filterInput.value.trim() ? `No ${filterInput.value.trim()} messages.` : 'No messages yet.'));
    // Delivery state per endpoint, a few at a time.
    const queue = [...rows];
    const worker = async () => {
      for (let row = queue.shift(); row; row = queue.shift()) {
        const deliveries = await get(`${base}/messages/${seg(row.msg.id)}/deliveries`, { signal }).catch(() => null);
        row.setDeliveries(deliveries?.data ?? null, endpointUrl);
      }
    };
    Promise.all([worker(), worker(), worker(), worker()]).catch(() => {});
    return page.nextCursor;
  }

  filterForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    setQuery(filterInput.value.trim() ? { eventType: filterInput.value.trim() } : {});
    list.replaceChildren();
    try {
      more.set(await loadPage(null));
    } catch (err) {
      replace(status, errorBox(err));
    }
  });

  replace(body,
    h('div', { class: 'section-head' },
      h('h2', {}, 'Messages'),
      h('a', { class: 'btn primary', href: `#/apps/${seg(appRef)}/messages/new` }, 'Send message')),
    filterForm, list, status, more.el);
  more.set(await loadPage(null));
}

function messageRow(appRef, msg) {
  const deliveries = h('span', { class: 'chips deliveries' }, h('span', { class: 'small muted' }, 'loading deliveries…'));
  const el = h('li', { class: 'row' },
    h('div', { class: 'row-main' },
      h('a', { href: `#/apps/${seg(appRef)}/messages/${seg(msg.id)}`, class: 'row-title', 'data-item': '' }, msg.eventType),
      h('p', { class: 'small mono muted' }, msg.id, msg.eventId ? ` · event ${msg.eventId}` : ''),
      deliveries),
    h('div', { class: 'row-meta' }, h('span', { class: 'small muted' }, time(msg.timestamp))));
  return {
    el,
    msg,
    setDeliveries(list, urls) {
      if (list === null) return replace(deliveries, h('span', { class: 'small muted' }, 'delivery state unavailable'));
      if (list.length === 0) return replace(deliveries, h('span', { class: 'small muted' }, 'no subscribed endpoint'));
      return replace(deliveries, list.map((d) => h('span', { class: 'delivery', title: urls.get(d.endpointId) ?? d.endpointId },
        chip(d.status), h('span', { class: 'small mono ep-url' }, shortUrl(urls.get(d.endpointId) ?? d.endpointId)))));
    },
  };
}

export function shortUrl(url) {
  try {
    const u = new URL(url);
    return `${u.host}${u.pathname === '/' ? '' : u.pathname}`;
  } catch {
    return url;
  }
}

async function keysTab(app, signal, body) {
  const list = h('ul', { class: 'rows' });
  const reveal = h('div', { 'aria-live': 'polite' });
  const render = async () => {
    const keys = (await get(`/api/v1/apps/${seg(app.id)}/keys`, { signal })).data;
    list.replaceChildren(...keys.map((key) => h('li', { class: 'row' },
      h('div', { class: 'row-main' }, h('span', { class: 'row-title' }, key.name || 'unnamed key'), h('p', { class: 'small mono muted' }, key.id)),
      h('div', { class: 'row-meta' }, h('span', { class: 'small muted' }, 'created ', time(key.createdAt)),
        confirmButton('Revoke', {
          danger: true,
          question: 'Revoke this key?',
          confirmLabel: 'Revoke key',
          onConfirm: async () => {
            try {
              await del(`/api/v1/apps/${seg(app.id)}/keys/${seg(key.id)}`);
              toast('Key revoked.');
              await render();
            } catch (err) {
              toast(err.message, 'bad');
            }
          },
        })))));
    if (keys.length === 0) list.replaceChildren(h('li', {}, empty('No keys. An app key lets this customer use the API and this dashboard for this app only.')));
  };
  const name = h('input', { type: 'text', autocomplete: 'off', placeholder: 'ci, dashboard…' });
  const create = h('button', { type: 'submit', class: 'btn primary' }, 'Create key');
  const form = h('form', { class: 'inline-form', 'aria-label': 'New app key' }, field('Key name (optional)', name), create);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    await busy(create, async () => {
      const key = await post(`/api/v1/apps/${seg(app.id)}/keys`, name.value.trim() ? { name: name.value.trim() } : {});
      name.value = '';
      replace(reveal, h('div', { class: 'panel panel-ok' },
        h('p', {}, 'The token is shown once: copy it now.'),
        h('div', { class: 'url-row' }, h('input', { type: 'text', readonly: 'true', class: 'mono url-input', value: key.token, 'aria-label': 'New key token' }), copyButton(key.token, 'Copy token')),
        h('p', { class: 'small muted' }, `Sign in with it and the app "${app.uid ?? app.id}".`)));
      await render();
    });
  });
  replace(body, card('App keys', h('p', { class: 'muted small' }, 'Tokens are stored as hashes and shown only when created.'), form, reveal, list));
  await render();
}
