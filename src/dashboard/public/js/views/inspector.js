// A source's page: its receiving URL and settings, and the request inspector (live list + detail).
import { del, get, post, seg, stream, withQuery } from '../api.js';
import {
  busy, card, chip, codeChip, confirmButton, copyButton, dl, empty, errorBox, h, loading, pageHead, pager, pretty,
  prettyBody, replace, time, toast,
} from '../dom.js';
import { navigate, setQuery } from '../nav.js';
import { presetOf } from '../presets.js';
import { receivingUrl } from './sources.js';
import { requestExecutions } from './workflows.js';

const STATUSES = [['', 'All'], ['accepted', 'Accepted'], ['rejected', 'Rejected'], ['duplicate', 'Duplicate']];

export async function inspectorView({ params, query, signal, setTitle, root }) {
  const [srcName] = params;
  const source = await get(`/api/v1/sources/${seg(srcName)}`, { signal });
  setTitle(source.name);
  const base = `/api/v1/sources/${seg(source.id)}`;
  const hrefBase = `#/sources/${seg(source.name)}`;

  let filter = STATUSES.some(([v]) => v === query.status) ? query.status : '';
  let selected = null;
  const shown = new Set();

  // ---- list pane ----
  const filterSelect = h('select', { 'data-filter': '', 'aria-label': 'Filter requests by status' }, STATUSES.map(([v, text]) => h('option', { value: v }, text)));
  filterSelect.value = filter;
  const liveState = h('span', { class: 'live', dataset: { state: 'connecting' } }, 'Connecting…');
  const announcer = h('span', { class: 'visually-hidden', 'aria-live': 'polite' });
  const list = h('ol', { class: 'req-list', 'data-list': '', 'aria-label': `Requests to ${source.name}, newest first` });
  const emptyNote = empty('No requests yet. Send one to the receiving URL: it shows here at once.');
  const more = pager((cursor) => loadPage(cursor));
  const listPane = h('section', { class: 'list-pane', 'aria-labelledby': 'req-heading' },
    h('div', { class: 'pane-head' }, h('h2', { id: 'req-heading' }, 'Requests'), liveState, announcer,
      h('label', { class: 'inline-label' }, 'Status ', filterSelect)),
    list, emptyNote, more.el);

  // ---- detail pane ----
  const back = h('a', { class: 'back-link', href: withQuery(hrefBase, { status: filter }) }, '← All requests');
  const detail = h('div', { class: 'detail-body' });
  const detailPane = h('section', { class: 'detail-pane', 'aria-label': 'Request detail', tabindex: '-1' }, back, detail);
  const inspector = h('div', { class: 'inspector' }, listPane, detailPane);

  const deleteButton = confirmButton('Delete', {
    danger: true,
    question: `Delete ${source.name} and its request log?`,
    confirmLabel: 'Delete source',
    onConfirm: async () => {
      try {
        await del(base);
        toast(`Deleted ${source.name}.`);
        navigate('/sources');
      } catch (err) {
        toast(err.message, 'bad');
      }
    },
  });

  replace(root,
    pageHead(source.name, {
      crumbs: [['Sources', '#/sources'], [source.name]],
      sub: source.description || null,
      actions: [h('a', { class: 'btn', href: `${hrefBase}/edit` }, 'Edit'), deleteButton],
    }),
    card('Receiving URL', receivingUrl(source),
      h('p', { class: 'muted small' }, 'Also answers at ', h('code', {}, source.url.replace('/in/', '/webhooks/')), ' and at any sub-path of either.'),
      h('details', { class: 'settings', open: matchMedia('(min-width: 821px)').matches }, h('summary', {}, 'Settings'), settingsSummary(source))),
    inspector);

  const itemHref = (id) => withQuery(`${hrefBase}/requests/${seg(id)}`, { status: filter });

  function requestItem(record, fresh = false) {
    const link = h('a', { href: itemHref(record.id), class: 'req-item', 'data-item': '', dataset: { id: record.id } },
      h('span', { class: 'req-line' },
        h('span', { class: 'method' }, record.method),
        h('span', { class: 'req-path mono' }, requestLine(record))),
      h('span', { class: 'req-meta' },
        chip(record.status),
        codeChip(record.responseStatus),
        record.stale ? staleChip() : null,
        record.processing.status !== 'none' ? chip(record.processing.status, `processing ${record.processing.status}`) : null,
        time(record.receivedAt)));
    if (record.id === selected) link.setAttribute('aria-current', 'true');
    return h('li', { class: fresh ? 'fresh' : null, dataset: { id: record.id } }, link);
  }

  function syncEmpty() {
    emptyNote.hidden = list.children.length > 0;
    if (filter && list.children.length === 0) emptyNote.textContent = `No ${filter} requests.`;
    else emptyNote.textContent = 'No requests yet. Send one to the receiving URL: it shows here at once.';
  }

  async function loadPage(cursor) {
    const page = await get(withQuery(`${base}/requests`, { limit: 50, cursor, status: filter }), { signal });
    for (const record of page.data) {
      if (shown.has(record.id)) continue;
      shown.add(record.id);
      list.append(requestItem(record));
    }
    syncEmpty();
    return page.nextCursor;
  }

  async function reloadList() {
    shown.clear();
    list.replaceChildren();
    more.set(await loadPage(null));
  }

  // The stream resumes after the newest request there is now (whatever the filter), so nothing that arrives while
  // the first page loads is missed; ids already listed are skipped.
  const newest = (await get(`${base}/requests?limit=1`, { signal })).data[0]?.id ?? 'req_0';
  await reloadList();

  let fresh = 0;
  stream(`${base}/stream`, {
    signal,
    lastEventId: newest,
    onState: (state, error) => {
      liveState.dataset.state = state;
      liveState.textContent = state === 'open' ? 'Live' : state === 'reconnecting' ? 'Reconnecting…' : error ? `Not live: ${error.message}` : 'Stopped';
    },
    onEvent: (event) => {
      if (event.event !== 'request') return;
      let record;
      try {
        record = JSON.parse(event.data);
      } catch {
        return;
      }
      if (shown.has(record.id) || (filter && record.status !== filter)) return;
      shown.add(record.id);
      list.prepend(requestItem(record, true));
      syncEmpty();
      fresh += 1;
      announcer.textContent = `${fresh} new request${fresh === 1 ? '' : 's'}`;
    },
  }).catch(() => {});

  filterSelect.addEventListener('change', async () => {
    filter = filterSelect.value;
    setQuery(selected ? {} : { status: filter });
    if (selected) history.replaceState(null, '', itemHref(selected));
    back.setAttribute('href', withQuery(hrefBase, { status: filter }));
    try {
      await reloadList();
    } catch (err) {
      if (!signal.aborted) toast(err.message, 'bad');
    }
  });

  // ---- detail ----
  let detailController = null;

  async function showDetail(reqId) {
    detailController?.abort();
    selected = reqId ?? null;
    inspector.classList.toggle('has-selection', Boolean(selected));
    for (const link of list.querySelectorAll('.req-item')) {
      if (link.dataset.id === selected) link.setAttribute('aria-current', 'true');
      else link.removeAttribute('aria-current');
    }
    if (!selected) {
      replace(detail, h('p', { class: 'empty' }, 'Select a request to see its method, headers, body, verification and processing.'));
      return;
    }
    const controller = new AbortController();
    detailController = controller;
    signal.addEventListener('abort', () => controller.abort(), { once: true });
    replace(detail, loading());
    try {
      const record = await get(`${base}/requests/${seg(selected)}`, { signal: controller.signal });
      renderDetail(record, controller.signal);
      if (matchMedia('(max-width: 820px)').matches) detailPane.focus();
    } catch (err) {
      if (!controller.signal.aborted) replace(detail, errorBox(err));
    }
  }

  function renderDetail(record, detailSignal) {
    const replay = h('button', { type: 'button', class: 'btn primary' }, 'Replay');
    replay.addEventListener('click', () => busy(replay, async () => {
      await post(`${base}/requests/${seg(record.id)}/replay`);
      toast('Replay queued: the handler and forwards run again.');
      await poll(record.id, detailSignal);
    }));
    replace(detail, requestDetail(source, record, replay));
    if (['pending', 'running'].includes(record.processing.status)) poll(record.id, detailSignal).catch(() => {});
    void showExecutions(record, detailSignal);
  }

  /** Links to the workflow executions the request started, once there are any (they start with its processing). */
  async function showExecutions(record, detailSignal) {
    for (let tries = 0; tries < 20 && !detailSignal.aborted; tries++) {
      const { data } = await get(`${base}/requests/${seg(record.id)}/executions`, { signal: detailSignal }).catch(() => ({ data: [] }));
      if (data.length > 0) {
        const workflows = new Map();
        for (const id of new Set(data.map((e) => e.workflowId))) {
          const workflow = await get(`/api/v1/workflows/${seg(id)}`, { signal: detailSignal }).catch(() => null);
          if (workflow) workflows.set(id, workflow);
        }
        const section = requestExecutions(data, workflows);
        const existing = detail.querySelector('[data-executions]');
        if (existing) existing.replaceWith(section);
        else detail.querySelector('[data-processing]')?.after(section);
        if (data.every((e) => ['succeeded', 'failed'].includes(e.status))) return;
      } else if (record.processing.status === 'none') {
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  }

  /** Re-reads the request while its processing is under way (after a replay, or when it just arrived). */
  async function poll(reqId, detailSignal) {
    for (let i = 0; i < 60 && !detailSignal.aborted; i++) {
      await new Promise((resolve) => setTimeout(resolve, i === 0 ? 300 : 1000));
      if (detailSignal.aborted) return;
      const record = await get(`${base}/requests/${seg(reqId)}`, { signal: detailSignal });
      const item = list.querySelector(`li[data-id="${CSS.escape(reqId)}"]`);
      item?.replaceWith(requestItem(record));
      if (!['pending', 'running'].includes(record.processing.status)) {
        const replay = detail.querySelector('[data-processing]');
        replay?.replaceWith(processingSection(record));
        return;
      }
      detail.querySelector('[data-processing]')?.replaceWith(processingSection(record));
    }
  }

  await showDetail(params[1]);

  return {
    update: async (nextParams, nextQuery) => {
      const nextFilter = STATUSES.some(([v]) => v === nextQuery.status) ? nextQuery.status : '';
      if (nextFilter !== filter) {
        filter = nextFilter;
        filterSelect.value = filter;
        back.setAttribute('href', withQuery(hrefBase, { status: filter }));
        await reloadList();
      }
      if ((nextParams[1] ?? null) !== selected) await showDetail(nextParams[1]);
    },
  };
}

function settingsSummary(source) {
  const type = source.verification?.type ?? 'none';
  const response = source.response;
  return dl([
    ['Methods', source.methods.join(', ')],
    ['Verification', type === 'none' ? 'None' : presetOf(type)?.label ?? type],
    ['Answer', response ? `${response.mode === 'sync' ? 'Synchronous' : 'Fixed'}${response.status ? `, ${response.status}` : ''}` : '202 {"id"}'],
    ['Handler', source.handler ?? `${source.name} (if the file exists)`],
    ['Forwards', source.forward.length ? h('ul', { class: 'plain' }, source.forward.map((f) => h('li', { class: 'mono' }, 'url' in f ? f.url : `app ${f.app} · ${f.eventType}`))) : 'None'],
    source.ipAllowlist ? ['IP allowlist', source.ipAllowlist.join(', ')] : null,
    source.dedup ? ['Dedup', source.dedup.header ? `header ${source.dedup.header}` : `path ${source.dedup.jsonPath}`] : null,
    source.ordering ? ['Ordering', h('span', { class: 'mono' }, `${source.ordering.entity} by ${source.ordering.timestamp}`)] : null,
  ]);
}

/** Marks a request that arrived older than the newest for its entity (the source's ordering): kept, not processed. */
const staleChip = () => {
  const el = chip('stale');
  el.title = 'Older than the newest request already accepted for the same entity: stored, not processed';
  return el;
};

function queryString(query) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    for (const v of Array.isArray(value) ? value : [value]) params.append(key, String(v ?? ''));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

const requestLine = (record) => `/${record.path ?? ''}${queryString(record.query)}`;

function curlOf(source, record) {
  const quote = (s) => `'${String(s).replace(/'/g, `'\\''`)}'`;
  const skip = new Set(['host', 'content-length', 'connection', 'accept-encoding', 'transfer-encoding']);
  const url = `${source.url}${record.path ? `/${record.path}` : ''}${queryString(record.query)}`;
  const parts = [`curl -X ${record.method} ${quote(url)}`];
  for (const [name, value] of Object.entries(record.headers ?? {})) if (!skip.has(name)) parts.push(`-H ${quote(`${name}: ${value}`)}`);
  if (record.body) parts.push(record.bodyEncoding === 'base64' ? `--data-binary @<(echo ${quote(record.body)} | base64 -d)` : `--data-binary ${quote(record.body)}`);
  return parts.join(' \\\n  ');
}

function requestDetail(source, record, replayButton) {
  const contentType = record.headers?.['content-type'] ?? '';
  const body = prettyBody(record.body, record.bodyEncoding, contentType);
  const pre = h('pre', { class: 'code body', tabindex: '0', 'aria-label': 'Request body' });
  const prettyToggle = h('button', { type: 'button', class: 'btn small', 'aria-pressed': 'true' }, body.kind === 'binary' ? 'Hex' : 'Pretty');
  const rawToggle = h('button', { type: 'button', class: 'btn small', 'aria-pressed': 'false' }, body.kind === 'binary' ? 'Base64' : 'Raw');
  const showBody = (raw) => {
    pre.textContent = raw ? body.raw : body.pretty;
    pre.dataset.mode = raw ? 'raw' : 'pretty';
    prettyToggle.setAttribute('aria-pressed', String(!raw));
    rawToggle.setAttribute('aria-pressed', String(raw));
  };
  prettyToggle.addEventListener('click', () => showBody(false));
  rawToggle.addEventListener('click', () => showBody(true));
  showBody(false);

  const headerRows = Object.entries(record.headers ?? {}).sort(([a], [b]) => a.localeCompare(b));
  const queryRows = Object.entries(record.query ?? {});
  const verification = record.verified === true
    ? chip('verified', 'verified')
    : record.verified === false
      ? chip('unverified', 'verification failed')
      : chip('none', 'not checked');

  return h('article', { class: 'request', 'aria-labelledby': 'req-title' },
    h('header', { class: 'request-head' },
      h('h2', { id: 'req-title', class: 'mono' }, h('span', { class: 'method' }, record.method), ' ', requestLine(record)),
      h('div', { class: 'actions' }, replayButton, copyButton(() => curlOf(source, record), 'Copy as curl'))),
    dl([
      ['Request', h('span', { class: 'mono' }, record.id)],
      ['Received', time(record.receivedAt)],
      ['Outcome', h('span', { class: 'chips' }, chip(record.status), codeChip(record.responseStatus), record.stale ? staleChip() : null)],
      ['Verification', h('span', { class: 'chips' }, verification, record.reason ? h('span', { class: 'reason' }, record.reason) : null)],
      record.duplicateOf ? ['Duplicate of', h('a', { href: `#/sources/${seg(source.name)}/requests/${seg(record.duplicateOf)}`, class: 'mono' }, record.duplicateOf)] : null,
    ]),
    h('section', { class: 'sub-card' }, h('h3', {}, 'Query'),
      queryRows.length
        ? h('table', { class: 'kv-table' }, h('tbody', {}, queryRows.map(([k, v]) => h('tr', {}, h('th', { scope: 'row' }, k), h('td', { class: 'mono' }, Array.isArray(v) ? v.join(', ') : String(v))))))
        : h('p', { class: 'muted small' }, 'No query string.')),
    h('section', { class: 'sub-card' }, h('h3', {}, `Headers (${headerRows.length})`),
      h('table', { class: 'kv-table' }, h('tbody', {}, headerRows.map(([k, v]) => h('tr', {}, h('th', { scope: 'row', class: 'mono' }, k), h('td', { class: 'mono' }, v)))))),
    h('section', { class: 'sub-card' },
      h('div', { class: 'section-head' },
        h('h3', {}, 'Body'),
        h('span', { class: 'muted small' }, body.kind === 'empty' ? 'empty' : `${body.kind}${body.size !== undefined ? `, ${body.size} bytes` : ''}${contentType ? ` · ${contentType}` : ''}`),
        body.kind === 'empty' ? null : h('span', { class: 'toggle', role: 'group', 'aria-label': 'Body view' }, prettyToggle, rawToggle),
        body.kind === 'empty' ? null : copyButton(() => body.raw, 'Copy body')),
      body.kind === 'empty' ? h('p', { class: 'muted small' }, 'No body.') : pre),
    processingSection(record));
}

function processingSection(record) {
  const p = record.processing;
  return h('section', { class: 'sub-card', 'data-processing': '' },
    h('h3', {}, 'Processing'),
    p.status === 'none'
      ? h('p', { class: 'muted small' }, record.stale
        ? 'Not run: the request is stale (a newer one for the same entity was accepted first). Replay runs it anyway.'
        : 'Nothing to run: no handler, forwards or workflows (or the request was refused).')
      : dl([
        ['Status', chip(p.status)],
        ['Duration', p.durationMs === null ? '—' : `${p.durationMs} ms`],
        ['Finished', p.finishedAt ? time(p.finishedAt) : '—'],
        p.error ? ['Error', h('pre', { class: 'code error' }, p.error)] : null,
        p.output !== undefined && p.output !== null ? ['Output', h('pre', { class: 'code' }, pretty(p.output))] : null,
      ]));
}
