// DOM helpers. Text always goes in as text (never innerHTML), so nothing a webhook sender controls can become markup.

let nextId = 0;
/** A unique element id, for label/aria wiring. */
export const uid = (prefix = 'el') => `${prefix}-${++nextId}`;

const BOOLEAN_PROPS = new Set(['hidden', 'disabled', 'checked', 'selected', 'required', 'readOnly', 'multiple', 'open', 'autofocus']);

/**
 * h('button', {class: 'btn', onclick: fn, 'aria-label': 'x'}, 'text', child, [more])
 * Attributes: `class`, `text`, `on<event>`, `dataset`, boolean properties, `value`, anything else via setAttribute.
 */
export function h(tag, attrs = {}, ...children) {
  const svg = tag.startsWith('svg:');
  const el = svg ? document.createElementNS('http://www.w3.org/2000/svg', tag.slice(4)) : document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false && !BOOLEAN_PROPS.has(key)) continue;
    if (key === 'class') el.setAttribute('class', Array.isArray(value) ? value.filter(Boolean).join(' ') : value);
    else if (key === 'text') el.textContent = String(value);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (BOOLEAN_PROPS.has(key)) el[key] = Boolean(value);
    else if (key === 'value' && !svg) el.value = value;
    else if (key === 'for') el.htmlFor = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

export function replace(el, ...children) {
  clear(el);
  return append(el, children);
}

// ---- formatting ----

export function fmtTime(iso) {
  if (!iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  const today = new Date().toDateString() === date.toDateString();
  return today
    ? date.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' })
    : date.toLocaleString(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

export function relTime(iso) {
  if (!iso) return '';
  const seconds = Math.round((Date.now() - new Date(iso).getTime()) / 1000);
  const abs = Math.abs(seconds);
  const [value, unit] = abs < 60 ? [abs, 's'] : abs < 3600 ? [Math.round(abs / 60), 'min'] : abs < 86400 ? [Math.round(abs / 3600), 'h'] : [Math.round(abs / 86400), 'd'];
  return seconds >= 0 ? `${value} ${unit} ago` : `in ${value} ${unit}`;
}

/** A <time> element with the absolute time and the relative one as its title. */
export const time = (iso) => h('time', { datetime: iso ?? '', title: iso ? `${new Date(iso).toISOString()} (${relTime(iso)})` : '' }, fmtTime(iso));

export const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;

const STATUS_KIND = {
  accepted: 'ok', succeeded: 'ok', success: 'ok', enabled: 'ok', verified: 'ok',
  rejected: 'bad', failed: 'bad', disabled: 'bad', unverified: 'bad',
  duplicate: 'warn', stale: 'warn', pending: 'warn', sending: 'info', running: 'info', waiting: 'info', none: 'muted', manual: 'info', scheduled: 'muted', info: 'info',
};

/** A status chip; the text always carries the meaning (colour is only a hint). */
export const chip = (status, label = status) =>
  h('span', { class: ['chip', `chip-${STATUS_KIND[status] ?? 'muted'}`], dataset: { status } }, label);

/** HTTP status code chip: 2xx ok, 4xx/5xx bad, none muted. */
export const codeChip = (code) =>
  code === null || code === undefined
    ? h('span', { class: 'chip chip-muted' }, 'no response')
    : h('span', { class: ['chip', code >= 200 && code < 300 ? 'chip-ok' : code >= 300 && code < 400 ? 'chip-warn' : 'chip-bad'] }, String(code));

// ---- messages to the user ----

export function toast(message, kind = 'ok') {
  const box = document.getElementById('toasts');
  const el = h('div', { class: ['toast', `toast-${kind}`] }, message);
  box.append(el);
  setTimeout(() => el.remove(), kind === 'bad' ? 8000 : 4000);
}

/** An error panel for an API error (or any Error). `forbiddenHint` says what to do about a 403 (the portal has its own). */
export function errorBox(err, { title, forbiddenHint = 'This page needs the admin token: an app key reaches only its own app. Sign out and sign in with the admin token to see it.' } = {}) {
  const status = err?.status;
  let heading = title ?? 'Something went wrong';
  let hint = null;
  if (status === 403) {
    heading = 'Not available with this token';
    hint = forbiddenHint;
  } else if (status === 404) heading = 'Not found';
  else if (status === 0) heading = 'Cannot reach the server';
  return h('div', { class: 'panel panel-error', role: 'alert' },
    h('p', { class: 'error-title' }, heading),
    h('p', {}, err?.message ?? String(err)),
    err?.details?.length ? h('ul', {}, err.details.map((d) => h('li', {}, `${d.path ?? ''} ${d.message ?? ''}`.trim()))) : null,
    hint ? h('p', { class: 'muted' }, hint) : null);
}

/** Shows a form error inside `slot` (an element with role=alert) and focuses it. */
export function showFormError(slot, err) {
  replace(slot, errorBox(err, { title: 'Could not save' }));
  slot.hidden = false;
  slot.querySelector('.panel')?.setAttribute('tabindex', '-1');
  slot.querySelector('.panel')?.focus();
}

// ---- components ----

/** Copies `text()` to the clipboard; falls back to a hidden textarea where the Clipboard API is missing (plain http). */
export async function copyText(text) {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // fall through to the old way
  }
  const area = h('textarea', { class: 'offscreen', readonly: 'true', 'aria-hidden': 'true' });
  area.value = text;
  document.body.append(area);
  area.select();
  let ok = false;
  try {
    ok = document.execCommand('copy');
  } catch {
    ok = false;
  }
  area.remove();
  return ok;
}

export function copyButton(getText, label = 'Copy') {
  const button = h('button', { type: 'button', class: 'btn small', 'data-copy': '' }, label);
  button.addEventListener('click', async () => {
    const ok = await copyText(typeof getText === 'function' ? getText() : getText);
    button.textContent = ok ? 'Copied' : 'Copy failed: select and copy by hand';
    setTimeout(() => { button.textContent = label; }, 2000);
  });
  return button;
}

/**
 * A button that asks for confirmation in place (no native dialog): the first press shows "Confirm / Cancel".
 * Esc or Cancel returns to the button.
 */
export function confirmButton(label, { confirmLabel = 'Confirm', question, danger = false, onConfirm }) {
  const wrap = h('span', { class: 'confirm' });
  const button = h('button', { type: 'button', class: ['btn', danger && 'danger'] }, label);
  const ask = h('span', { class: 'confirm-ask', hidden: true, role: 'group', 'aria-label': question ?? label });
  const yes = h('button', { type: 'button', class: ['btn', danger ? 'danger' : 'primary'] }, confirmLabel);
  const no = h('button', { type: 'button', class: 'btn ghost' }, 'Cancel');
  append(ask, [question ? h('span', { class: 'confirm-q' }, question) : null, yes, no]);
  const reset = () => { ask.hidden = true; button.hidden = false; button.focus(); };
  button.addEventListener('click', () => { button.hidden = true; ask.hidden = false; yes.focus(); });
  no.addEventListener('click', reset);
  ask.addEventListener('keydown', (event) => { if (event.key === 'Escape') { event.stopPropagation(); reset(); } });
  yes.addEventListener('click', async () => {
    yes.disabled = true;
    try {
      await onConfirm();
    } finally {
      yes.disabled = false;
      if (wrap.isConnected) { ask.hidden = true; button.hidden = false; }
    }
  });
  append(wrap, [button, ask]);
  return wrap;
}

/**
 * Re-reads a view while something in it is in flight: `refresh()` resolves true while a delivery is pending or
 * sending. Reads 300 ms after the call, then a second apart for up to a minute, and once more when nothing is left
 * (an attempt is written just after its delivery's state changes). One follow at a time; stops with `signal`.
 */
export function follower(refresh, signal) {
  let following = false;
  return async () => {
    if (following) return;
    following = true;
    try {
      for (let i = 0; i < 60 && !signal.aborted; i++) {
        await new Promise((resolve) => setTimeout(resolve, i === 0 ? 300 : 1000));
        if (signal.aborted || !(await refresh())) {
          if (!signal.aborted) await refresh();
          return;
        }
      }
    } finally {
      following = false;
    }
  };
}

/** Runs `fn` with the button disabled and a busy state; shows a toast on error. */
export async function busy(button, fn) {
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    return await fn();
  } catch (err) {
    toast(err?.message ?? String(err), 'bad');
    return undefined;
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
  }
}

/** A labelled field: label, control, optional hint (wired with aria-describedby). */
export function field(label, control, hint, { required = false } = {}) {
  control.id ||= uid('f');
  const hintEl = hint ? h('small', { class: 'hint', id: uid('hint') }, hint) : null;
  if (hintEl) control.setAttribute('aria-describedby', hintEl.id);
  return h('div', { class: 'field' }, h('label', { for: control.id }, label, required ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null), control, hintEl);
}

export function checkbox(label, { checked = false, value, name } = {}) {
  const input = h('input', { type: 'checkbox', checked, value, name });
  return { input, el: h('label', { class: 'check' }, input, ' ', label) };
}

export function select(options, value) {
  const el = h('select', {}, options.map(([v, text]) => h('option', { value: v, selected: v === value }, text)));
  el.value = value ?? options[0]?.[0] ?? '';
  return el;
}

/** Key/value pairs shown as a definition list. */
export const dl = (pairs) =>
  h('dl', { class: 'kv' }, pairs.filter(Boolean).map(([k, v]) => [h('dt', {}, k), h('dd', {}, v ?? '—')]));

/** A titled card. */
export const card = (title, ...children) =>
  h('section', { class: 'card' }, title ? h('h2', {}, title) : null, ...children);

export const empty = (text) => h('p', { class: 'empty' }, text);

export const loading = () => h('p', { class: 'loading', role: 'status' }, 'Loading…');

/** Page header with a title, an optional subtitle line and actions on the right. */
export function pageHead(title, { crumbs = [], sub, actions = [] } = {}) {
  return h('div', { class: 'page-head' },
    crumbs.length ? h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('ol', {}, crumbs.map(([text, href]) => h('li', {}, href ? h('a', { href }, text) : text)))) : null,
    h('div', { class: 'page-title' }, h('h1', {}, title), actions.length ? h('div', { class: 'actions' }, actions) : null),
    sub ? h('p', { class: 'sub' }, sub) : null);
}

/** A "Load more" button for a `{data, nextCursor}` list; `loadPage(cursor)` renders one page and returns the next cursor. */
export function pager(loadPage) {
  const button = h('button', { type: 'button', class: 'btn ghost', hidden: true }, 'Load more');
  let cursor = null;
  button.addEventListener('click', () => busy(button, async () => {
    cursor = await loadPage(cursor);
    button.hidden = !cursor;
  }));
  return {
    el: h('div', { class: 'pager' }, button),
    set(next) { cursor = next; button.hidden = !next; },
  };
}

// ---- bodies ----

/** Best-effort pretty form of a body: JSON indented, form fields listed, text as is, binary as a hex dump. */
export function prettyBody(body, encoding, contentType = '') {
  if (body === undefined || body === null || body === '') return { kind: 'empty', pretty: '', raw: '' };
  if (encoding === 'base64') {
    const bytes = Uint8Array.from(atob(body), (c) => c.charCodeAt(0));
    return { kind: 'binary', pretty: hexdump(bytes), raw: body, size: bytes.length };
  }
  const type = contentType.toLowerCase();
  try {
    if (type.includes('json') || /^\s*[[{]/.test(body)) return { kind: 'json', pretty: JSON.stringify(JSON.parse(body), null, 2), raw: body };
  } catch {
    // not JSON after all
  }
  if (type.includes('application/x-www-form-urlencoded')) {
    const lines = [...new URLSearchParams(body)].map(([k, v]) => `${k} = ${v}`);
    return { kind: 'form', pretty: lines.join('\n'), raw: body };
  }
  return { kind: 'text', pretty: body, raw: body };
}

function hexdump(bytes) {
  const lines = [];
  for (let offset = 0; offset < Math.min(bytes.length, 4096); offset += 16) {
    const row = bytes.slice(offset, offset + 16);
    const hex = [...row].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    const ascii = [...row].map((b) => (b >= 32 && b < 127 ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${offset.toString(16).padStart(8, '0')}  ${hex.padEnd(47)}  ${ascii}`);
  }
  if (bytes.length > 4096) lines.push(`… ${bytes.length - 4096} more bytes`);
  return lines.join('\n');
}

/** JSON for display, or '—'. */
export const pretty = (value) => (value === undefined ? '—' : typeof value === 'string' ? value : JSON.stringify(value, null, 2));

/** Parses "Name: value" lines into an object; throws with the line number on a bad line. */
export function parseHeaderLines(text, what = 'header') {
  const out = {};
  text.split('\n').map((line) => line.trim()).forEach((line, i) => {
    if (line === '') return;
    const colon = line.indexOf(':');
    if (colon < 1) throw new Error(`${what} line ${i + 1}: use "Name: value"`);
    out[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
  });
  return out;
}

export const headerLines = (headers) => Object.entries(headers ?? {}).map(([k, v]) => `${k}: ${v}`).join('\n');

/** Splits a textarea or comma list into trimmed non-empty entries. */
export const listOfLines = (text) => text.split(/[\n,]/).map((s) => s.trim()).filter(Boolean);
