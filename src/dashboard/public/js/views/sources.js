// Sources: the list, the create/edit form and the "new bin" shortcut.
import { get, patch, post, seg, withQuery } from '../api.js';
import {
  append, busy, card, checkbox, chip, copyButton, empty, field, h, headerLines, listOfLines, pageHead, pager,
  parseHeaderLines, replace, select, showFormError, time, toast,
} from '../dom.js';
import { navigate } from '../nav.js';
import { PRESETS, isSecretField, presetOf } from '../presets.js';

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

/** A random bin name: `bin-` + 8 lowercase letters and digits. */
function binName() {
  const alphabet = 'abcdefghijkmnpqrstuvwxyz23456789';
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return `bin-${[...bytes].map((b) => alphabet[b % alphabet.length]).join('')}`;
}

/** webhook.site-style: a source that takes any method with no verification, then its live view. */
export async function createBin(button) {
  await busy(button, async () => {
    const source = await post('/api/v1/sources', {
      name: binName(),
      description: 'Inspection bin: takes any method, verifies nothing.',
      methods: METHODS,
      verification: null,
    });
    toast(`Bin ${source.name} created: send anything to its URL.`);
    navigate(`/sources/${seg(source.name)}`);
  });
}

export function receivingUrl(source) {
  const input = h('input', { type: 'text', readonly: 'true', value: source.url, class: 'mono url-input', 'aria-label': `Receiving URL of ${source.name}` });
  input.addEventListener('focus', () => input.select());
  return h('div', { class: 'url-row' }, input, copyButton(() => source.url, 'Copy URL'));
}

export async function sourcesView({ signal, setTitle, root }) {
  setTitle('Sources');
  const newBin = h('button', { type: 'button', class: 'btn', title: 'A source with no verification that takes any method; opens its live view' }, 'New bin');
  newBin.addEventListener('click', () => createBin(newBin));
  const list = h('ul', { class: 'rows', 'data-list': '' });
  const more = pager(async (cursor) => renderPage(cursor));

  async function renderPage(cursor) {
    const page = await get(withQuery('/api/v1/sources', { limit: 50, cursor }), { signal });
    append(list, page.data.map(sourceRow));
    if (!cursor && page.data.length === 0) list.replaceWith(empty('No sources yet. Create one, or make a bin to see what a sender sends.'));
    return page.nextCursor;
  }

  const first = await get('/api/v1/sources?limit=50', { signal });
  replace(root,
    pageHead('Sources', {
      sub: 'Receiving URLs: each checks signatures, keeps every request, answers the sender and runs its handler and forwards.',
      actions: [newBin, h('a', { class: 'btn primary', href: '#/sources/new' }, 'New source')],
    }),
    first.data.length ? list : empty('No sources yet. Create one, or make a bin to see what a sender sends.'),
    more.el);
  append(list, first.data.map(sourceRow));
  more.set(first.nextCursor);
}

function sourceRow(source) {
  const type = source.verification?.type ?? 'none';
  return h('li', { class: 'row' },
    h('div', { class: 'row-main' },
      h('a', { href: `#/sources/${seg(source.name)}`, class: 'row-title', 'data-item': '' }, source.name),
      source.description ? h('p', { class: 'muted small' }, source.description) : null,
      receivingUrl(source)),
    h('div', { class: 'row-meta' },
      chip(type === 'none' ? 'none' : 'verified', type === 'none' ? 'no verification' : presetOf(type)?.label ?? type),
      h('span', { class: 'small mono' }, source.methods.join(' ')),
      source.handler ? h('span', { class: 'small' }, `handler ${source.handler}`) : null,
      source.forward.length ? h('span', { class: 'small' }, `${source.forward.length} forward${source.forward.length === 1 ? '' : 's'}`) : null,
      h('span', { class: 'small muted' }, 'created ', time(source.createdAt))));
}

// ---- the form ----

export async function sourceFormView({ params, signal, setTitle, root }) {
  const [name] = params;
  const source = name ? await get(`/api/v1/sources/${seg(name)}`, { signal }) : null;
  setTitle(source ? `Edit ${source.name}` : 'New source');
  const form = buildSourceForm(source);
  replace(root,
    pageHead(source ? `Edit ${source.name}` : 'New source', {
      crumbs: [['Sources', '#/sources'], ...(source ? [[source.name, `#/sources/${seg(source.name)}`]] : []), [source ? 'Edit' : 'New']],
    }),
    form);
  form.querySelector('input')?.focus();
}

function buildSourceForm(source) {
  const editing = source !== null;
  const name = h('input', { type: 'text', name: 'name', required: true, value: source?.name ?? '', pattern: '[A-Za-z0-9][A-Za-z0-9_\\-]{0,63}', autocomplete: 'off', spellcheck: 'false' });
  const description = h('textarea', { name: 'description', rows: 2 }, source?.description ?? '');
  const methodBoxes = METHODS.map((m) => checkbox(m, { checked: (source?.methods ?? ['POST']).includes(m), value: m }));

  // verification
  const original = source?.verification ?? null;
  const typeSelect = select(PRESETS.map((p) => [p.type, p.label]), original?.type ?? 'none');
  typeSelect.name = 'verification';
  const verifyFields = h('div', { class: 'preset-fields' });
  let controls = {};
  const renderPreset = () => {
    const preset = presetOf(typeSelect.value);
    controls = {};
    const sameType = original?.type === preset.type;
    replace(verifyFields,
      h('p', { class: 'muted small' }, `Checks: ${preset.checks}`),
      preset.fields.map((def) => {
        const control = presetControl(def, sameType ? original?.[def.name] : undefined, editing && sameType);
        controls[def.name] = { def, control };
        const hint = isSecretField(def) && editing && sameType
          ? `${def.hint ? `${def.hint} ` : ''}Stored encrypted and never shown: leave empty to keep it; changing any verification field needs it again.`
          : def.hint;
        return field(def.label, control, hint, { required: def.required && !(isSecretField(def) && editing && sameType) });
      }));
  };
  typeSelect.addEventListener('change', renderPreset);
  renderPreset();

  // response
  const response = source?.response ?? null;
  const mode = select([['', 'Default: 202 {"id"} at once, processing afterwards'], ['async', 'Fixed answer, processing afterwards'], ['sync', 'Synchronous: wait for the handler (or answer with the fixed response)']], response?.mode ?? '');
  const status = h('input', { type: 'number', min: 100, max: 599, value: response?.status ?? '', inputmode: 'numeric' });
  const respHeaders = h('textarea', { rows: 2, class: 'mono', placeholder: 'Content-Type: text/plain' }, headerLines(response?.headers));
  const respBody = h('textarea', { rows: 3, class: 'mono', placeholder: '{"ok": true}  or plain text' }, response?.body === undefined ? '' : typeof response.body === 'string' ? response.body : JSON.stringify(response.body, null, 2));
  const responseFields = h('div', {}, field('Status', status, 'Empty: the default (200 for sync, 202 for async).'), field('Headers', respHeaders, 'One "Name: value" per line.'), field('Body', respBody, 'JSON is sent as JSON, anything else as text.'));
  const syncMode = () => { responseFields.hidden = mode.value === ''; };
  mode.addEventListener('change', syncMode);
  syncMode();

  const handler = h('input', { type: 'text', value: source?.handler ?? '', placeholder: editing ? source.name : 'defaults to the source name', autocomplete: 'off', spellcheck: 'false' });

  // forwards
  const forwardList = h('ul', { class: 'forwards' });
  const addForward = (target = { url: '' }) => forwardList.append(forwardRow(target));
  for (const target of source?.forward ?? []) addForward(target);
  const addForwardButton = h('button', { type: 'button', class: 'btn small' }, 'Add forward');
  addForwardButton.addEventListener('click', () => {
    addForward();
    forwardList.lastElementChild?.querySelector('select')?.focus();
  });

  // advanced
  const ipAllowlist = h('textarea', { rows: 2, class: 'mono', placeholder: '203.0.113.0/24' }, (source?.ipAllowlist ?? []).join('\n'));
  const dedupKind = select([['', "The preset's delivery id"], ['header', 'A header'], ['jsonPath', 'A JSON path in the body']], source?.dedup?.header ? 'header' : source?.dedup?.jsonPath ? 'jsonPath' : '');
  const dedupValue = h('input', { type: 'text', class: 'mono', value: source?.dedup?.header ?? source?.dedup?.jsonPath ?? '', placeholder: 'X-Request-Id or $.id' });
  const dedupSync = () => { dedupValue.disabled = dedupKind.value === ''; };
  dedupKind.addEventListener('change', dedupSync);
  dedupSync();

  const error = h('div', { role: 'alert', class: 'form-error', hidden: true });
  const submit = h('button', { type: 'submit', class: 'btn primary' }, editing ? 'Save changes' : 'Create source');
  const form = h('form', { class: 'stack form', novalidate: true, 'aria-label': editing ? `Edit source ${source.name}` : 'New source' },
    card('Basics',
      field('Name', name, 'Letters, digits, _ and -. The receiving URL ends with it: /in/<name>.', { required: true }),
      field('Description', description),
      h('fieldset', { class: 'inline' }, h('legend', {}, 'Methods accepted'), methodBoxes.map((b) => b.el))),
    card('Verification', field('Preset', typeSelect, 'How a request proves it comes from the sender.'), verifyFields),
    card('Answer to the sender', field('Response mode', mode), responseFields),
    card('Processing',
      field('Handler', handler, 'A file in the handlers directory, without extension. Empty: the file named like the source, if any.'),
      h('fieldset', {}, h('legend', {}, 'Forwards'), h('p', { class: 'muted small' }, 'After the handler, the request is delivered to URLs (signed and retried) or becomes a message of an app.'), forwardList, addForwardButton)),
    h('details', { class: 'card' }, h('summary', {}, 'Advanced: IP allowlist, dedup'),
      field('IP allowlist', ipAllowlist, 'Addresses or CIDR blocks, one per line. Empty: any address.'),
      h('div', { class: 'grid2' }, field('Duplicate detection by', dedupKind), field('Header or path', dedupValue))),
    error,
    h('div', { class: 'actions' }, submit, h('a', { class: 'btn ghost', href: editing ? `#/sources/${seg(source.name)}` : '#/sources' }, 'Cancel')));

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.hidden = true;
    let body;
    try {
      body = {
        description: description.value,
        methods: methodBoxes.filter((b) => b.input.checked).map((b) => b.input.value),
        response: responseBody(mode.value, status.value, respHeaders.value, respBody.value),
        handler: handler.value.trim() || null,
        forward: [...forwardList.children].map(readForward).filter(Boolean),
        ipAllowlist: listOfLines(ipAllowlist.value).length ? listOfLines(ipAllowlist.value) : null,
        dedup: dedupKind.value === '' || !dedupValue.value.trim() ? null : { [dedupKind.value]: dedupValue.value.trim() },
      };
      if (body.methods.length === 0) throw new Error('Pick at least one method.');
      const verification = readVerification(typeSelect.value, controls, original, editing);
      if (verification !== undefined) body.verification = verification;
      if (!editing || name.value.trim() !== source.name) body.name = name.value.trim();
      if (!editing && !body.name) throw new Error('Give the source a name.');
    } catch (err) {
      showFormError(error, err);
      return;
    }
    await busy(submit, async () => {
      try {
        const saved = editing ? await patch(`/api/v1/sources/${seg(source.id)}`, body) : await post('/api/v1/sources', body);
        toast(editing ? `Saved ${saved.name}.` : `Created ${saved.name}: it answers at ${saved.url}`);
        navigate(`/sources/${seg(saved.name)}`);
      } catch (err) {
        showFormError(error, err);
      }
    });
  });
  return form;
}

function presetControl(def, value, keepSecret) {
  if (def.kind === 'secrets') {
    return h('textarea', { rows: 2, class: 'mono', name: def.name, autocomplete: 'off', spellcheck: 'false', placeholder: keepSecret ? '•••••••• (unchanged)' : '' });
  }
  if (def.kind === 'secret') {
    return h('input', { type: 'password', name: def.name, autocomplete: 'new-password', placeholder: keepSecret ? '•••••••• (unchanged)' : '' });
  }
  if (def.kind === 'select') {
    const el = select(def.options.map((o) => [o, o]), value ?? def.options[0]);
    el.name = def.name;
    return el;
  }
  if (def.kind === 'number') return h('input', { type: 'number', name: def.name, min: def.min, value: value ?? '', inputmode: 'numeric' });
  return h('input', { type: def.kind === 'url' ? 'url' : 'text', name: def.name, value: value ?? '', placeholder: def.placeholder, autocomplete: 'off', spellcheck: 'false', class: 'mono' });
}

/**
 * The verification to send, or undefined to leave it as stored. Stored secrets never come back from the API, so an
 * edit that keeps the preset and its fields and leaves the secret empty changes nothing; any other change needs the
 * secret again (the config is replaced whole).
 */
function readVerification(type, controls, original, editing) {
  if (type === 'none') return editing && (original === null || original?.type === 'none') ? undefined : null;
  const config = { type };
  let secretsGiven = false;
  let secretMissing = null;
  let changed = original?.type !== type;
  for (const { def, control } of Object.values(controls)) {
    const raw = control.value.trim();
    if (def.kind === 'secrets') {
      const list = control.value.split('\n').map((line) => line.trim()).filter(Boolean);
      if (list.length === 1) config.secret = list[0];
      else if (list.length > 1) config.secrets = list;
      if (list.length) secretsGiven = true;
      else secretMissing ??= def.label;
      continue;
    }
    if (def.kind === 'secret') {
      if (control.value !== '') {
        config[def.name] = control.value;
        secretsGiven = true;
      } else secretMissing ??= def.label;
      continue;
    }
    if (raw === '') {
      if (def.required) throw new Error(`${def.label} is required.`);
      if (original?.[def.name] !== undefined && original.type === type) changed = true;
      continue;
    }
    const value = def.kind === 'number' ? Number(raw) : raw;
    if (def.kind === 'number' && !Number.isInteger(value)) throw new Error(`${def.label} must be a whole number.`);
    config[def.name] = value;
    if (original?.[def.name] !== value) changed = true;
  }
  if (editing && !changed && !secretsGiven) return undefined;
  if (secretMissing) {
    throw new Error(editing && original?.type === type
      ? `Enter the ${secretMissing.toLowerCase()} again: stored secrets are never sent back to the browser, and changing verification replaces them.`
      : `${secretMissing} is required for ${presetOf(type).label}.`);
  }
  return config;
}

function responseBody(mode, status, headers, body) {
  if (mode === '') return null;
  const response = { mode };
  if (status.trim() !== '') response.status = Number(status);
  const parsedHeaders = parseHeaderLines(headers, 'Response header');
  if (Object.keys(parsedHeaders).length) response.headers = parsedHeaders;
  if (body.trim() !== '') {
    try {
      response.body = JSON.parse(body);
    } catch {
      response.body = body;
    }
  }
  return response;
}

function forwardRow(target) {
  const isApp = 'app' in target;
  const kind = select([['url', 'Deliver to a URL'], ['app', 'Send as a message of an app']], isApp ? 'app' : 'url');
  kind.setAttribute('aria-label', 'Forward kind');
  const url = h('input', { type: 'url', class: 'mono', value: target.url ?? '', placeholder: 'https://internal.example.com/hook', 'aria-label': 'Forward URL' });
  const app = h('input', { type: 'text', value: target.app ?? '', placeholder: 'app id or uid', 'aria-label': 'App' });
  const eventType = h('input', { type: 'text', value: target.eventType ?? '', placeholder: 'event.type', 'aria-label': 'Event type' });
  const urlBox = h('span', { class: 'fw-fields' }, url);
  const appBox = h('span', { class: 'fw-fields' }, app, eventType);
  const sync = () => { urlBox.hidden = kind.value !== 'url'; appBox.hidden = kind.value !== 'app'; };
  kind.addEventListener('change', sync);
  sync();
  const remove = h('button', { type: 'button', class: 'btn small ghost', 'aria-label': 'Remove this forward' }, 'Remove');
  const row = h('li', { class: 'forward-row' }, kind, urlBox, appBox, remove);
  row.read = () => {
    if (kind.value === 'url') return url.value.trim() ? { url: url.value.trim() } : null;
    if (!app.value.trim() && !eventType.value.trim()) return null;
    if (!app.value.trim() || !eventType.value.trim()) throw new Error('A forward to an app needs both the app and the event type.');
    return { app: app.value.trim(), eventType: eventType.value.trim() };
  };
  remove.addEventListener('click', () => {
    const next = row.nextElementSibling ?? row.previousElementSibling;
    row.remove();
    (next?.querySelector('select') ?? document.querySelector('.forwards + button'))?.focus();
  });
  return row;
}

const readForward = (row) => row.read();
