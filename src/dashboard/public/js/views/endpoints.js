// Endpoints: create/edit, and one endpoint's state, secret, recover and attempts.
import { del, get, patch, post, seg } from '../api.js';
import {
  busy, card, checkbox, confirmButton, copyButton, dl, field, h, headerLines, listOfLines, pageHead,
  parseHeaderLines, replace, select, showFormError, time, toast,
} from '../dom.js';
import { navigate } from '../nav.js';
import { endpointState } from './apps.js';
import { attemptTimeline } from './attempts.js';

export async function endpointFormView({ params, signal, setTitle, root }) {
  const [appRef, epId] = params;
  const [app, endpoint, eventTypes] = await Promise.all([
    get(`/api/v1/apps/${seg(appRef)}`, { signal }),
    epId ? get(`/api/v1/apps/${seg(appRef)}/endpoints/${seg(epId)}`, { signal }) : null,
    get('/api/v1/event-types?limit=250', { signal }).then((r) => r.data).catch(() => []),
  ]);
  const editing = endpoint !== null;
  setTitle(editing ? 'Edit endpoint' : 'New endpoint');
  const base = `/api/v1/apps/${seg(app.id)}/endpoints`;

  const url = h('input', { type: 'url', required: true, class: 'mono', value: endpoint?.url ?? '', placeholder: 'https://customer.example.com/webhooks', autocomplete: 'off', spellcheck: 'false' });
  const description = h('input', { type: 'text', value: endpoint?.description ?? '' });
  const selected = new Set(endpoint?.eventTypes ?? []);
  const known = eventTypes.map((t) => t.name);
  const boxes = known.map((name) => checkbox(name, { checked: selected.has(name), value: name }));
  const other = h('input', { type: 'text', class: 'mono', value: [...selected].filter((t) => !known.includes(t)).join(', '), placeholder: 'invoice.paid, user.created', spellcheck: 'false', autocomplete: 'off' });
  const channels = h('input', { type: 'text', class: 'mono', value: (endpoint?.channels ?? []).join(', '), placeholder: 'project_123, team_a', spellcheck: 'false', autocomplete: 'off' });
  const ordering = select([['parallel', 'Parallel (fastest; no order)'], ['fifo', 'FIFO: one at a time, in order']], endpoint?.ordering ?? 'parallel');
  const payloadMode = select([['full', 'Full payload'], ['thin', 'Thin: id and URL to fetch']], endpoint?.payloadMode ?? 'full');
  const headers = h('textarea', { rows: 2, class: 'mono', placeholder: 'X-Customer: 42' }, headerLines(endpoint?.headers));
  const rateLimit = h('input', { type: 'number', min: 1, max: 100000, value: endpoint?.rateLimit ?? '', inputmode: 'numeric' });
  const timeoutMs = h('input', { type: 'number', min: 100, max: 300000, value: endpoint?.timeoutMs ?? '', inputmode: 'numeric' });
  const secret = h('input', { type: 'text', class: 'mono', autocomplete: 'off', spellcheck: 'false', placeholder: 'whsec_… (generated when empty)' });
  const error = h('div', { role: 'alert', class: 'form-error', hidden: true });
  const submit = h('button', { type: 'submit', class: 'btn primary' }, editing ? 'Save changes' : 'Create endpoint');
  const cancelHref = editing ? `#/apps/${seg(appRef)}/endpoints/${seg(endpoint.id)}` : `#/apps/${seg(appRef)}`;

  const form = h('form', { class: 'stack form', novalidate: true, 'aria-label': editing ? 'Edit endpoint' : 'New endpoint' },
    card(null,
      field('URL', url, 'Messages are POSTed here, signed with the endpoint secret (Standard Webhooks).', { required: true }),
      field('Description', description),
      h('fieldset', {}, h('legend', {}, 'Event types'),
        h('p', { class: 'muted small' }, 'Only these are delivered. None ticked and none typed: every event type.'),
        boxes.length ? h('div', { class: 'checks' }, boxes.map((b) => b.el)) : null,
        field(boxes.length ? 'Other event types' : 'Event types', other, 'Comma separated.')),
      field('Channels', channels, 'Comma separated. Empty: messages of every channel (or none).'),
      h('div', { class: 'grid2' },
        field('Ordering', ordering, 'FIFO holds later messages while one is being retried.'),
        field('Payload', payloadMode, 'Thin sends {type, id, timestamp, data: {id, url}}.')),
      field('Custom headers', headers, 'One "Name: value" per line, sent with every attempt.'),
      h('div', { class: 'grid2' },
        field('Rate limit (attempts per second)', rateLimit, 'Empty: no limit.'),
        field('Timeout (ms)', timeoutMs, 'Empty: the server default.')),
      editing ? null : field('Signing secret', secret, 'Leave empty to have one generated.')),
    error,
    h('div', { class: 'actions' }, submit, h('a', { class: 'btn ghost', href: cancelHref }, 'Cancel')));

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.hidden = true;
    let body;
    try {
      if (!url.value.trim()) throw new Error('Enter the endpoint URL.');
      const types = [...new Set([...boxes.filter((b) => b.input.checked).map((b) => b.input.value), ...listOfLines(other.value)])];
      body = {
        url: url.value.trim(),
        description: description.value,
        eventTypes: types.length ? types : null,
        channels: listOfLines(channels.value),
        ordering: ordering.value,
        payloadMode: payloadMode.value,
        headers: parseHeaderLines(headers.value),
        rateLimit: rateLimit.value ? Number(rateLimit.value) : null,
        timeoutMs: timeoutMs.value ? Number(timeoutMs.value) : null,
      };
      if (!editing && secret.value.trim()) body.secret = secret.value.trim();
    } catch (err) {
      showFormError(error, err);
      return;
    }
    await busy(submit, async () => {
      try {
        const saved = editing ? await patch(`${base}/${seg(endpoint.id)}`, body) : await post(base, body);
        toast(editing ? 'Endpoint saved.' : 'Endpoint created.');
        navigate(`/apps/${seg(appRef)}/endpoints/${seg(saved.id)}`);
      } catch (err) {
        showFormError(error, err);
      }
    });
  });

  replace(root,
    pageHead(editing ? 'Edit endpoint' : 'New endpoint', {
      crumbs: [[app.name, `#/apps/${seg(appRef)}`], ...(editing ? [[endpoint.url, cancelHref]] : []), [editing ? 'Edit' : 'New endpoint']],
    }),
    form);
  url.focus();
}

/** `datetime-local` value for a Date, in local time. */
const localInput = (date) => new Date(date.getTime() - date.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);

export async function endpointView({ params, signal, setTitle, root }) {
  const [appRef, epId] = params;
  const app = await get(`/api/v1/apps/${seg(appRef)}`, { signal });
  const base = `/api/v1/apps/${seg(app.id)}/endpoints/${seg(epId)}`;
  let endpoint = await get(base, { signal });
  setTitle(endpoint.url);

  const info = h('div', {});
  const stateButton = h('button', { type: 'button', class: 'btn' });
  const renderInfo = () => {
    stateButton.textContent = endpoint.disabled ? 'Enable' : 'Disable';
    replace(info, dl([
      ['State', endpointState(endpoint)],
      endpoint.failingSince ? ['Failing since', time(endpoint.failingSince)] : null,
      ['Event types', endpoint.eventTypes?.length ? endpoint.eventTypes.join(', ') : 'Every event type'],
      ['Channels', endpoint.channels?.length ? endpoint.channels.join(', ') : 'Every channel'],
      ['Ordering', endpoint.ordering === 'fifo' ? 'FIFO: one at a time, in order' : 'Parallel'],
      ['Payload', endpoint.payloadMode === 'thin' ? 'Thin (id and URL)' : 'Full'],
      ['Headers', Object.keys(endpoint.headers ?? {}).length ? h('pre', { class: 'code' }, headerLines(endpoint.headers)) : 'None'],
      ['Rate limit', endpoint.rateLimit ? `${endpoint.rateLimit} per second` : 'None'],
      ['Timeout', endpoint.timeoutMs ? `${endpoint.timeoutMs} ms` : 'Server default'],
      ['Id', h('span', { class: 'mono' }, endpoint.id)],
      ['Updated', time(endpoint.updatedAt)],
    ]));
    recoverNote.hidden = !endpoint.disabled;
    recoverButton.disabled = endpoint.disabled;
  };
  stateButton.addEventListener('click', () => busy(stateButton, async () => {
    endpoint = await patch(base, { disabled: !endpoint.disabled });
    toast(endpoint.disabled ? 'Endpoint disabled: its pending deliveries are marked failed.' : 'Endpoint enabled. Use Recover to resend what failed meanwhile.');
    renderInfo();
  }));

  // ---- secret ----
  const secretOut = h('div', { class: 'secret-out', 'aria-live': 'polite' });
  const revealButton = h('button', { type: 'button', class: 'btn', 'aria-expanded': 'false' }, 'Reveal secret');
  let revealed = false;
  const showSecret = async () => {
    const { key } = await get(`${base}/secret`, { signal });
    const input = h('input', { type: 'text', readonly: 'true', class: 'mono url-input', value: key, 'aria-label': 'Signing secret', 'data-secret': '' });
    replace(secretOut, h('div', { class: 'url-row' }, input, copyButton(key, 'Copy secret')));
    revealed = true;
    revealButton.textContent = 'Hide secret';
    revealButton.setAttribute('aria-expanded', 'true');
  };
  revealButton.addEventListener('click', () => busy(revealButton, async () => {
    if (revealed) {
      secretOut.replaceChildren();
      revealed = false;
      revealButton.setAttribute('aria-expanded', 'false');
      return;
    }
    await showSecret();
  }).then(() => { revealButton.textContent = revealed ? 'Hide secret' : 'Reveal secret'; }));
  const customKey = h('input', { type: 'text', class: 'mono', autocomplete: 'off', spellcheck: 'false', placeholder: 'whsec_… (generated when empty)' });
  const rotate = confirmButton('Rotate secret', {
    question: 'Make a new secret current? The old one keeps signing beside it for 24 hours.',
    confirmLabel: 'Rotate now',
    onConfirm: async () => {
      try {
        await post(`${base}/secret/rotate`, customKey.value.trim() ? { key: customKey.value.trim() } : {});
        customKey.value = '';
        toast('Secret rotated: the previous one keeps signing for 24 hours.');
        await showSecret();
        revealButton.textContent = 'Hide secret';
      } catch (err) {
        toast(err.message, 'bad');
      }
    },
  });

  // ---- recover ----
  const since = h('input', { type: 'datetime-local', value: localInput(new Date(Date.now() - 24 * 3600_000)), required: true });
  const until = h('input', { type: 'datetime-local' });
  const recoverButton = h('button', { type: 'submit', class: 'btn' }, 'Recover failed messages');
  const recoverNote = h('p', { class: 'small muted' }, 'Enable the endpoint first: a disabled endpoint cannot recover.');
  const recoverForm = h('form', { class: 'inline-form', 'aria-label': 'Recover failed messages' },
    field('Since', since), field('Until (optional)', until, 'Empty: now.'), recoverButton);
  recoverForm.addEventListener('submit', (event) => {
    event.preventDefault();
    busy(recoverButton, async () => {
      if (!since.value) throw new Error('Pick the start of the window.');
      const body = { since: new Date(since.value).toISOString(), ...(until.value ? { until: new Date(until.value).toISOString() } : {}) };
      const result = await post(`${base}/recover`, body);
      toast(result.count === 0 ? 'No failed deliveries in that window.' : `${result.count} failed deliver${result.count === 1 ? 'y' : 'ies'} queued again.`);
      await timeline.reload();
    });
  });

  // ---- attempts ----
  const timeline = attemptTimeline(get, `${base}/attempts`, signal, { appRef, link: 'message' });
  const refresh = h('button', { type: 'button', class: 'btn small' }, 'Refresh');
  refresh.addEventListener('click', () => busy(refresh, timeline.reload));

  const deleteButton = confirmButton('Delete', {
    danger: true,
    question: 'Delete this endpoint?',
    confirmLabel: 'Delete endpoint',
    onConfirm: async () => {
      try {
        await del(base);
        toast('Endpoint deleted.');
        navigate(`/apps/${seg(appRef)}`);
      } catch (err) {
        toast(err.message, 'bad');
      }
    },
  });

  replace(root,
    pageHead(endpoint.url, {
      crumbs: [[app.name, `#/apps/${seg(appRef)}`], ['Endpoint']],
      sub: endpoint.description || null,
      actions: [h('a', { class: 'btn', href: `#/apps/${seg(appRef)}/endpoints/${seg(endpoint.id)}/edit` }, 'Edit'), stateButton, deleteButton],
    }),
    h('div', { class: 'grid2 top' },
      card('Settings', info),
      h('div', { class: 'stack' },
        card('Signing secret',
          h('p', { class: 'muted small' }, 'Receivers verify the webhook-signature header with it. Rotating keeps the old secret valid for 24 hours.'),
          h('div', { class: 'actions' }, revealButton),
          secretOut,
          field('New secret for the rotation (optional)', customKey),
          h('div', { class: 'actions' }, rotate)),
        card('Recover', h('p', { class: 'muted small' }, 'Send every failed delivery of a time window to this endpoint again, with a fresh retry schedule.'), recoverNote, recoverForm))),
    card(null, h('div', { class: 'section-head' }, h('h2', {}, 'Attempts'), refresh), ...timeline.nodes));
  renderInfo();
  await timeline.reload();
}
