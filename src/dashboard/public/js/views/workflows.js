// Workflows: the list, the editor (a form per node and a JSON view), a workflow's executions, and one execution.
import { get, patch, post, seg, withQuery } from '../api.js';
import { append, busy, card, chip, dl, empty, field, h, pageHead, pager, pretty, replace, select, showFormError, time, toast } from '../dom.js';
import { navigate } from '../nav.js';

const NODE_TYPES = ['condition', 'set', 'create', 'update', 'query', 'delete', 'http-request', 'emit', 'notify', 'code', 'delay', 'respond', 'end'];

/**
 * Each node type's form: [config field, kind, hint]. Kinds: text, area (text over lines), code, number (or a
 * template), json (JSON, or a template string), bool (unset / yes / no), or one of a list ('a|b|c').
 */
const NODE_FIELDS = {
  condition: [['expression', 'text', 'filtrex, e.g. $context.data.amount > 100 and $context.data.type == "invoice.paid"']],
  set: [['values', 'json', 'names to templates or {"expression": "…"}']],
  create: [['collection', 'text'], ['values', 'json', 'the document, templates allowed']],
  update: [['collection', 'text'], ['filter', 'json', '{} for all'], ['values', 'json', 'fields to set'], ['upsert', 'bool'], ['multi', 'bool', 'all matches (default) or the first']],
  query: [['collection', 'text'], ['filter', 'json'], ['sort', 'json', '{"field": -1}'], ['limit', 'number'], ['single', 'bool', 'one document instead of a list']],
  delete: [['collection', 'text'], ['filter', 'json', '{} for all']],
  'http-request': [['method', 'GET|POST|PUT|PATCH|DELETE'], ['url', 'text'], ['headers', 'json'], ['body', 'json'], ['timeoutMs', 'number'],
    ['retry', 'json', '{"attempts": 2, "delayMs": 500}'], ['signingSecret', 'text', 'whsec_… signs with Standard Webhooks headers'], ['failOnHttpError', 'bool', 'a 4xx/5xx fails the node (default yes)']],
  emit: [['app', 'text', 'app id or uid'], ['eventType', 'text'], ['payload', 'json']],
  notify: [['channel', 'slack|teams|webhook|email'], ['url', 'text', 'the incoming-webhook URL (not for e-mail)'], ['text', 'area'], ['to', 'text', 'e-mail only'],
    ['subject', 'text', 'e-mail only'], ['html', 'area', 'e-mail only'], ['from', 'text', 'e-mail only']],
  code: [['source', 'code', 'JavaScript over $context, $jobsMapByNodeKey, $env; return a JSON value'], ['timeoutMs', 'number'], ['memoryMb', 'number']],
  delay: [['ms', 'number', 'milliseconds (durable)']],
  respond: [['status', 'number'], ['headers', 'json'], ['body', 'json']],
  end: [['status', 'succeeded|failed'], ['error', 'text']],
};

const statusChip = (status) => chip(status);

export async function workflowsView({ signal, setTitle, root }) {
  setTitle('Workflows');
  const list = h('ul', { class: 'rows', 'data-list': '' });
  const more = pager(async (cursor) => {
    const page = await get(withQuery('/api/v1/workflows', { limit: 50, cursor }), { signal });
    append(list, page.data.map(workflowRow));
    return page.nextCursor;
  });
  const first = await get('/api/v1/workflows?limit=50', { signal });
  replace(root,
    pageHead('Workflows', {
      sub: 'No-code processing of received webhooks: conditions, the document db, HTTP calls, messages, notifications and code, run on each request of a source.',
      actions: [h('a', { class: 'btn primary', href: '#/workflows/new' }, 'New workflow')],
    }),
    first.data.length ? list : empty('No workflows yet. Create one to process a source\'s requests without writing a handler file.'),
    more.el);
  append(list, first.data.map(workflowRow));
  more.set(first.nextCursor);
}

function workflowRow(workflow) {
  const toggle = h('button', { type: 'button', class: 'btn small', 'data-toggle': workflow.key }, workflow.enabled ? 'Disable' : 'Enable');
  let state = chip(workflow.enabled ? 'enabled' : 'disabled');
  toggle.addEventListener('click', () => busy(toggle, async () => {
    const updated = await patch(`/api/v1/workflows/${seg(workflow.id)}`, { enabled: !workflow.enabled });
    workflow.enabled = updated.enabled;
    toggle.textContent = updated.enabled ? 'Disable' : 'Enable';
    const next = chip(updated.enabled ? 'enabled' : 'disabled');
    state.replaceWith(next);
    state = next;
    toast(`${workflow.key} ${updated.enabled ? 'enabled' : 'disabled'}.`);
  }));
  return h('li', { class: 'row' },
    h('div', { class: 'row-main' },
      h('a', { href: `#/workflows/${seg(workflow.key)}`, class: 'row-title', 'data-item': '' }, workflow.name),
      h('p', { class: 'muted small mono' }, `${workflow.key} · on ${workflow.trigger.source ?? '(deleted source)'} · ${workflow.mode} · ${workflow.nodes.length} nodes · v${workflow.version}`)),
    h('div', { class: 'row-meta' }, state, toggle, h('span', { class: 'small muted' }, 'updated ', time(workflow.updatedAt))));
}

// ---- one workflow: its definition and executions

export async function workflowView({ params, query, signal, setTitle, root }) {
  const [key] = params;
  const workflow = await get(`/api/v1/workflows/${seg(key)}`, { signal });
  setTitle(workflow.name);
  const status = select([['', 'any status'], ['running', 'running'], ['waiting', 'waiting'], ['succeeded', 'succeeded'], ['failed', 'failed']], query.status ?? '');
  status.setAttribute('data-filter', '');
  status.setAttribute('aria-label', 'Execution status');
  const list = h('ul', { class: 'rows', 'data-list': '' });
  const more = pager(async (cursor) => load(cursor));
  async function load(cursor) {
    const page = await get(withQuery(`/api/v1/workflows/${seg(workflow.id)}/executions`, { limit: 50, cursor, status: status.value || undefined }), { signal });
    if (!cursor) replace(list);
    append(list, page.data.map((execution) => executionRow(workflow, execution)));
    if (!cursor && page.data.length === 0) append(list, [h('li', { class: 'empty' }, 'No executions yet: send a request to the source.')]);
    return page.nextCursor;
  }
  status.addEventListener('change', async () => more.set(await load(null)));
  replace(root,
    pageHead(workflow.name, {
      crumbs: [['Workflows', '#/workflows'], [workflow.key]],
      sub: `On source ${workflow.trigger.source ?? '(deleted)'}, ${workflow.mode} mode, version ${workflow.version}, ${workflow.enabled ? 'enabled' : 'disabled'}.`,
      actions: [h('a', { class: 'btn', href: `#/workflows/${seg(workflow.key)}/edit` }, 'Edit'),
        workflow.trigger.source ? h('a', { class: 'btn ghost', href: `#/sources/${seg(workflow.trigger.source)}` }, 'Source requests') : null].filter(Boolean),
    }),
    card('Nodes', h('ol', { class: 'node-list' }, workflow.nodes.map((node) => h('li', {}, h('span', { class: 'mono' }, node.key), ' ', chip('none', node.type),
      h('span', { class: 'muted small' }, node.type === 'condition' ? ` then → ${node.then ?? 'end'}, else → ${node.else ?? 'end'}` : ` → ${node.next ?? 'end'}`))))),
    card('Executions', h('div', { class: 'filters' }, status), list, more.el));
  more.set(await load(null));
}

function executionRow(workflow, execution) {
  return h('li', { class: 'row' },
    h('div', { class: 'row-main' },
      h('a', { href: `#/workflows/${seg(workflow.key)}/executions/${seg(execution.id)}`, class: 'row-title mono', 'data-item': '' }, execution.id),
      h('p', { class: 'muted small' }, `request ${execution.requestId} · v${execution.version}${execution.error ? ` · ${execution.error}` : ''}`)),
    h('div', { class: 'row-meta' }, statusChip(execution.status), h('span', { class: 'small muted' }, 'started ', time(execution.startedAt))));
}

// ---- one execution: the path through the nodes, each job's input, output, error and time

export async function executionView({ params, signal, setTitle, root }) {
  const [key, id] = params;
  const workflow = await get(`/api/v1/workflows/${seg(key)}`, { signal });
  const render = async () => {
    const execution = await get(`/api/v1/workflows/${seg(workflow.id)}/executions/${seg(id)}`, { signal });
    setTitle(`Execution ${execution.id}`);
    const retry = execution.status === 'failed' && execution.currentNode
      ? h('button', { type: 'button', class: 'btn primary', 'data-retry': '' }, `Retry from ${execution.currentNode}`)
      : null;
    retry?.addEventListener('click', () => busy(retry, async () => {
      await post(`/api/v1/workflows/${seg(workflow.id)}/executions/${seg(execution.id)}/retry`);
      toast(`Retrying from ${execution.currentNode}.`);
      await render();
    }));
    const source = workflow.trigger.source;
    replace(root,
      pageHead(`Execution ${execution.id}`, {
        crumbs: [['Workflows', '#/workflows'], [workflow.key, `#/workflows/${seg(workflow.key)}`], [execution.id]],
        actions: retry ? [retry] : [],
      }),
      card('Run', dl([
        ['Status', statusChip(execution.status)],
        ['Version', `v${execution.version}`],
        ['Request', source ? h('a', { href: `#/sources/${seg(source)}/requests/${seg(execution.requestId)}`, class: 'mono' }, execution.requestId) : execution.requestId],
        ['Started', time(execution.startedAt)],
        ['Finished', execution.finishedAt ? time(execution.finishedAt) : '—'],
        execution.wakeAt ? ['Wakes', time(execution.wakeAt)] : null,
        execution.error ? ['Error', h('pre', { class: 'code error' }, execution.error)] : null,
        execution.response ? ['Answer', h('pre', { class: 'code' }, pretty(execution.response))] : null,
      ])),
      card(`Path (${execution.jobs.length} node runs)`, h('ol', { class: 'job-list', 'data-jobs': '' }, execution.jobs.map(jobItem))));
    // While it runs, follow it.
    if (['running', 'waiting'].includes(execution.status) && !signal.aborted) setTimeout(() => !signal.aborted && render().catch(() => {}), 1_000);
  };
  await render();
}

function jobItem(job) {
  return h('li', { class: 'job', 'data-job': job.nodeKey },
    h('details', { open: job.status === 'failed' },
      h('summary', {}, h('span', { class: 'mono' }, job.nodeKey), ' ', chip('none', job.type), ' ', statusChip(job.status),
        h('span', { class: 'muted small' }, ` ${job.durationMs === null ? '' : `${job.durationMs} ms · `}`, time(job.startedAt))),
      job.error ? h('pre', { class: 'code error' }, job.error) : null,
      h('div', { class: 'job-io' },
        h('div', {}, h('h4', {}, 'Input'), h('pre', { class: 'code' }, pretty(job.input))),
        h('div', {}, h('h4', {}, 'Output'), h('pre', { class: 'code' }, pretty(job.output))))));
}

// ---- the editor

export async function workflowFormView({ params, signal, setTitle, root }) {
  const [key] = params;
  const workflow = key ? await get(`/api/v1/workflows/${seg(key)}`, { signal }) : null;
  const sources = (await get('/api/v1/sources?limit=250', { signal })).data;
  setTitle(workflow ? `Edit ${workflow.key}` : 'New workflow');
  if (sources.length === 0 && !workflow) {
    replace(root, pageHead('New workflow', { crumbs: [['Workflows', '#/workflows'], ['New']] }),
      empty('A workflow runs on a source\'s requests: create a source first.'), h('a', { class: 'btn primary', href: '#/sources/new' }, 'New source'));
    return;
  }
  const state = {
    key: workflow?.key ?? '',
    name: workflow?.name ?? '',
    enabled: workflow?.enabled ?? true,
    source: workflow?.trigger.source ?? sources[0].name,
    mode: workflow?.mode ?? 'async',
    response: workflow?.response ?? null,
    nodes: structuredClone(workflow?.nodes ?? [{ key: 'check', type: 'condition', config: { expression: '$context.data.amount > 100' }, then: null, else: null }]),
  };

  const keyInput = h('input', { type: 'text', name: 'key', required: true, value: state.key, autocomplete: 'off', spellcheck: 'false', pattern: '[A-Za-z0-9][A-Za-z0-9_.\\-]{0,99}' });
  const nameInput = h('input', { type: 'text', name: 'name', value: state.name, autocomplete: 'off' });
  const sourceSelect = select(sources.map((s) => [s.name, s.name]), state.source);
  sourceSelect.name = 'source';
  const modeSelect = select([['async', 'async: answer at once, run after'], ['sync', 'sync: the sender waits for the answer']], state.mode);
  modeSelect.name = 'mode';
  const enabledBox = h('input', { type: 'checkbox', name: 'enabled', checked: state.enabled });
  const responseArea = h('textarea', { name: 'response', rows: 3, class: 'mono', spellcheck: 'false', placeholder: '{"status": 200, "body": {"ok": true}}' }, state.response ? JSON.stringify(state.response, null, 2) : '');
  const nodesBox = h('ol', { class: 'node-editor', 'data-nodes': '' });
  const jsonArea = h('textarea', { name: 'json', rows: 20, class: 'mono', spellcheck: 'false', 'aria-label': 'Workflow as JSON' });
  const jsonPane = h('div', { class: 'json-pane', hidden: true }, jsonArea,
    h('p', { class: 'muted small' }, 'The whole definition. Apply it to see it in the node forms, or save it as it is.'));
  const errorSlot = h('div', { role: 'alert', class: 'form-error', hidden: true });
  const formTab = h('button', { type: 'button', class: 'btn small', 'aria-pressed': 'true' }, 'Nodes');
  const jsonTab = h('button', { type: 'button', class: 'btn small', 'aria-pressed': 'false', 'data-json-view': '' }, 'JSON');
  const addType = select(NODE_TYPES.map((t) => [t, t]), 'set');
  addType.setAttribute('aria-label', 'Type of the node to add');
  const addButton = h('button', { type: 'button', class: 'btn small', 'data-add-node': '' }, 'Add node');
  const save = h('button', { type: 'submit', class: 'btn primary' }, workflow ? 'Save' : 'Create workflow');

  const definition = () => ({
    key: keyInput.value.trim(),
    name: nameInput.value.trim() || undefined,
    enabled: enabledBox.checked,
    trigger: { type: 'webhook', source: sourceSelect.value },
    mode: modeSelect.value,
    response: parseResponse(),
    nodes: state.nodes,
  });
  const parseResponse = () => {
    const text = responseArea.value.trim();
    if (!text) return null;
    try {
      return JSON.parse(text);
    } catch {
      throw new Error('The workflow response is not valid JSON.');
    }
  };

  function renderNodes(problems = []) {
    replace(nodesBox, state.nodes.map((node, index) => nodeCard(node, index, problems.filter((p) => p.node === node.key || p.path?.startsWith(`/body/nodes/${index}/`) || p.path === `/body/nodes/${index}`))));
  }

  function nodeCard(node, index, problems) {
    const keyField = h('input', { type: 'text', value: node.key, 'aria-label': `Key of node ${index + 1}`, 'data-node-key': '', spellcheck: 'false' });
    keyField.addEventListener('input', () => { node.key = keyField.value.trim(); });
    const typeField = select(NODE_TYPES.map((t) => [t, t]), node.type);
    typeField.setAttribute('aria-label', `Type of node ${index + 1}`);
    typeField.addEventListener('change', () => {
      node.type = typeField.value;
      node.config = {};
      if (node.type === 'condition') { delete node.next; node.then ??= null; node.else ??= null; } else { delete node.then; delete node.else; }
      renderNodes();
    });
    const links = node.type === 'condition'
      ? [linkField(node, 'then', 'Then →'), linkField(node, 'else', 'Else →')]
      : node.type === 'end' ? [] : [linkField(node, 'next', 'Next →')];
    const move = (step) => {
      const to = index + step;
      if (to < 0 || to >= state.nodes.length) return;
      [state.nodes[index], state.nodes[to]] = [state.nodes[to], state.nodes[index]];
      renderNodes();
    };
    const up = h('button', { type: 'button', class: 'btn small ghost', 'aria-label': `Move ${node.key} up`, disabled: index === 0 }, '↑');
    up.addEventListener('click', () => move(-1));
    const down = h('button', { type: 'button', class: 'btn small ghost', 'aria-label': `Move ${node.key} down`, disabled: index === state.nodes.length - 1 }, '↓');
    down.addEventListener('click', () => move(1));
    const remove = h('button', { type: 'button', class: 'btn small ghost danger', 'aria-label': `Remove ${node.key}` }, 'Remove');
    remove.addEventListener('click', () => { state.nodes.splice(index, 1); renderNodes(); });
    return h('li', { class: `node-card${problems.length ? ' has-error' : ''}`, 'data-node': node.key },
      h('div', { class: 'node-head' },
        h('span', { class: 'muted small' }, index === 0 ? 'start' : `#${index + 1}`), keyField, typeField, ...links, up, down, remove),
      problems.length ? h('ul', { class: 'node-problems', 'data-node-error': node.key }, problems.map((p) => h('li', {}, p.message))) : null,
      h('div', { class: 'node-config' }, (NODE_FIELDS[node.type] ?? []).map(([name, kind, hint]) => configField(node, name, kind, hint))));
  }

  function linkField(node, which, label) {
    const input = h('input', { type: 'text', value: node[which] ?? '', placeholder: 'end', 'aria-label': `${label} of ${node.key}`, 'data-link': which, spellcheck: 'false', class: 'link-input' });
    input.addEventListener('input', () => { node[which] = input.value.trim() || null; });
    return h('label', { class: 'link-field' }, h('span', { class: 'small muted' }, label), input);
  }

  function configField(node, name, kind, hint) {
    node.config ??= {};
    const value = node.config[name];
    let control;
    const set = (next) => {
      if (next === undefined) delete node.config[name];
      else node.config[name] = next;
    };
    if (kind === 'bool') {
      control = select([['', 'default'], ['true', 'yes'], ['false', 'no']], value === undefined ? '' : String(value));
      control.addEventListener('change', () => set(control.value === '' ? undefined : control.value === 'true'));
    } else if (kind.includes('|')) {
      control = select([['', '—'], ...kind.split('|').map((v) => [v, v])], value ?? '');
      control.addEventListener('change', () => set(control.value || undefined));
    } else if (kind === 'json' || kind === 'area' || kind === 'code') {
      const text = value === undefined ? '' : kind === 'json' && typeof value !== 'string' ? JSON.stringify(value, null, 2) : String(value);
      control = h('textarea', { rows: kind === 'code' ? 6 : 3, class: 'mono', spellcheck: 'false' }, text);
      control.addEventListener('input', () => {
        const raw = control.value;
        if (raw.trim() === '') return set(undefined);
        if (kind !== 'json') return set(raw);
        // JSON when it parses; otherwise the text itself (a template such as {{$context.data}}).
        try {
          set(JSON.parse(raw));
        } catch {
          set(raw);
        }
      });
    } else {
      control = h('input', { type: 'text', value: value === undefined ? '' : String(value), spellcheck: 'false', class: kind === 'number' ? 'narrow' : '' });
      control.addEventListener('input', () => {
        const raw = control.value.trim();
        if (raw === '') return set(undefined);
        set(kind === 'number' && /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw);
      });
    }
    control.setAttribute('data-config', name);
    control.setAttribute('aria-label', `${name} of ${node.key}`);
    return field(name, control, hint);
  }

  addButton.addEventListener('click', () => {
    const type = addType.value;
    let n = state.nodes.length + 1;
    while (state.nodes.some((node) => node.key === `${type.replace(/-./g, (m) => m[1].toUpperCase())}${n}`)) n++;
    const node = { key: `${type.replace(/-./g, (m) => m[1].toUpperCase())}${n}`, type, config: {}, ...(type === 'condition' ? { then: null, else: null } : {}) };
    // Chain it after the last node when that one ends its path.
    const last = state.nodes[state.nodes.length - 1];
    if (last && last.type !== 'condition' && last.type !== 'end' && !last.next) last.next = node.key;
    state.nodes.push(node);
    renderNodes();
    nodesBox.querySelector(`[data-node="${CSS.escape(node.key)}"] [data-node-key]`)?.focus();
  });

  const showJson = (on) => {
    formTab.setAttribute('aria-pressed', String(!on));
    jsonTab.setAttribute('aria-pressed', String(on));
    formPane.hidden = on;
    jsonPane.hidden = !on;
    if (on) {
      try {
        jsonArea.value = JSON.stringify(definition(), null, 2);
      } catch (err) {
        showFormError(errorSlot, err);
      }
    }
  };
  const applyJson = () => {
    const parsed = JSON.parse(jsonArea.value);
    keyInput.value = parsed.key ?? '';
    nameInput.value = parsed.name ?? '';
    enabledBox.checked = parsed.enabled ?? true;
    if (parsed.trigger?.source) sourceSelect.value = parsed.trigger.source;
    modeSelect.value = parsed.mode ?? 'async';
    responseArea.value = parsed.response ? JSON.stringify(parsed.response, null, 2) : '';
    state.nodes = Array.isArray(parsed.nodes) ? parsed.nodes : [];
    renderNodes();
  };
  formTab.addEventListener('click', () => {
    try {
      applyJson();
      showJson(false);
    } catch (err) {
      showFormError(errorSlot, new Error(`The JSON does not parse: ${err.message}`));
    }
  });
  jsonTab.addEventListener('click', () => showJson(true));

  const formPane = h('div', { class: 'nodes-pane' }, nodesBox, h('div', { class: 'actions' }, addType, addButton));
  const form = h('form', { class: 'card workflow-form', novalidate: true },
    field('Key', keyInput, 'Names the workflow in URLs and the API: letters, digits, _ . -', { required: true }),
    field('Name', nameInput, 'Shown in lists; the key when empty.'),
    field('Source', sourceSelect, 'Every request this source accepts starts a run.'),
    field('Mode', modeSelect),
    h('label', { class: 'check' }, enabledBox, ' Enabled'),
    field('Response (sync mode)', responseArea, 'The answer when no respond node decides it: {"status", "headers"?, "body"?}, templates allowed. Empty: 200 with the execution.'),
    h('div', { class: 'section-head' }, h('h2', {}, 'Nodes'), h('span', { class: 'toggle', role: 'group', 'aria-label': 'Editor view' }, formTab, jsonTab)),
    h('p', { class: 'muted small' }, 'The run starts at the first node. Templates: {{$context.data.…}}, {{$context.headers.…}}, {{$jobsMapByNodeKey.<node>.…}}, {{$env.NAME}}.'),
    formPane, jsonPane, errorSlot,
    h('div', { class: 'actions' }, save, h('a', { class: 'btn ghost', href: workflow ? `#/workflows/${seg(workflow.key)}` : '#/workflows' }, 'Cancel')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void busy(save, async () => {
      errorSlot.hidden = true;
      try {
        if (!jsonPane.hidden) applyJson();
        const body = definition();
        const saved = workflow ? await patch(`/api/v1/workflows/${seg(workflow.id)}`, body) : await post('/api/v1/workflows', body);
        toast(workflow ? `Saved ${saved.key} (version ${saved.version}).` : `Created ${saved.key}.`);
        navigate(`/workflows/${seg(saved.key)}`);
      } catch (err) {
        renderNodes(err.details ?? []);
        showFormError(errorSlot, err);
      }
    });
  });
  renderNodes();
  replace(root,
    pageHead(workflow ? `Edit ${workflow.key}` : 'New workflow', {
      crumbs: [['Workflows', '#/workflows'], ...(workflow ? [[workflow.key, `#/workflows/${seg(workflow.key)}`]] : []), [workflow ? 'Edit' : 'New']],
    }),
    form);
  keyInput.focus();
}

/** The inspector's list of the executions a request started. */
export function requestExecutions(executions, workflowsById) {
  return h('section', { class: 'sub-card', 'data-executions': '' },
    h('h3', {}, 'Workflow executions'),
    h('ul', { class: 'plain' }, executions.map((execution) => {
      const workflow = workflowsById.get(execution.workflowId);
      const ref = workflow?.key ?? execution.workflowId;
      return h('li', {}, h('a', { href: `#/workflows/${seg(ref)}/executions/${seg(execution.id)}` }, `${workflow?.name ?? ref}`), ' ', statusChip(execution.status),
        execution.error ? h('span', { class: 'muted small' }, ` ${execution.error}`) : null);
    })));
}
