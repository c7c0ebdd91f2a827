// The customer's endpoints: the list, the form (with the event catalog), and one endpoint's secret, test event,
// recovery and attempts. A read-only session sees all of it without the buttons that change anything.
import { seg, withQuery } from '../../../dashboard/js/api.js';
import {
  append, busy, card, confirmButton, copyButton, dl, empty, field, h, listOfLines, pageHead, pager, pretty, replace,
  select, showFormError, time, toast,
} from '../../../dashboard/js/dom.js';
import { navigate } from '../../../dashboard/js/nav.js';
import { endpointState } from '../../../dashboard/js/views/apps.js';
import { attemptTimeline } from '../../../dashboard/js/views/attempts.js';
import { eventTypePicker, loadEventTypes } from './catalog.js';
import { del, get, patch, post } from './client.js';

const appBase = (session) => `/api/v1/apps/${seg(session.app.id)}`;

export async function endpointsView({ session, signal, setTitle, root }) {
  setTitle('Endpoints');
  const list = h('ul', { class: 'rows', 'data-list': '', 'aria-label': 'Endpoints' });
  const none = empty('No endpoints yet. Add one to start receiving webhooks.');
  const more = pager(async (cursor) => {
    const page = await get(withQuery(`${appBase(session)}/endpoints`, { limit: 50, cursor }), { signal });
    append(list, page.data.map(endpointRow));
    return page.nextCursor;
  });
  const first = await get(`${appBase(session)}/endpoints?limit=50`, { signal });
  append(list, first.data.map(endpointRow));
  none.hidden = first.data.length > 0;
  more.set(first.nextCursor);
  replace(root,
    pageHead('Endpoints', {
      sub: 'The URLs that receive webhooks from this service, each signed with its own secret.',
      actions: session.readOnly ? [] : [h('a', { class: 'btn primary', href: '#/endpoints/new' }, 'Add endpoint')],
    }),
    card(null, list, none, more.el));
}

function endpointRow(ep) {
  return h('li', { class: 'row', dataset: { endpoint: ep.id } },
    h('div', { class: 'row-main' },
      h('a', { href: `#/endpoints/${seg(ep.id)}`, class: 'row-title mono', 'data-item': '' }, ep.url),
      ep.description ? h('p', { class: 'small muted' }, ep.description) : null,
      h('p', { class: 'small' }, ep.eventTypes?.length ? `Events: ${ep.eventTypes.join(', ')}` : 'Every event type')),
    h('div', { class: 'row-meta' }, endpointState(ep)));
}

export async function endpointFormView({ params, session, signal, setTitle, root }) {
  const [epId] = params;
  const base = `${appBase(session)}/endpoints`;
  const [endpoint, types] = await Promise.all([epId ? get(`${base}/${seg(epId)}`, { signal }) : null, loadEventTypes(signal)]);
  const editing = endpoint !== null;
  setTitle(editing ? 'Edit endpoint' : 'Add endpoint');
  const url = h('input', { type: 'url', required: true, class: 'mono', value: endpoint?.url ?? '', placeholder: 'https://example.com/webhooks', autocomplete: 'off', spellcheck: 'false' });
  const description = h('input', { type: 'text', value: endpoint?.description ?? '', maxlength: 1024 });
  const picker = eventTypePicker(types, new Set(endpoint?.eventTypes ?? []));
  const channels = h('input', { type: 'text', class: 'mono', value: (endpoint?.channels ?? []).join(', '), spellcheck: 'false', autocomplete: 'off' });
  const rateLimit = h('input', { type: 'number', min: 1, max: 100000, value: endpoint?.rateLimit ?? '', inputmode: 'numeric' });
  const error = h('div', { role: 'alert', class: 'form-error', hidden: true });
  const submit = h('button', { type: 'submit', class: 'btn primary' }, editing ? 'Save changes' : 'Add endpoint');
  const back = editing ? `#/endpoints/${seg(endpoint.id)}` : '#/';
  const form = h('form', { class: 'stack form', novalidate: true, 'aria-label': editing ? 'Edit endpoint' : 'Add endpoint' },
    card(null,
      field('Endpoint URL', url, 'Webhooks are POSTed here over HTTPS, signed (Standard Webhooks).', { required: true }),
      field('Description', description),
      picker.el,
      field('Channels', channels, 'Comma separated, if the service sends on channels. Empty: every channel.'),
      field('Rate limit (requests per second)', rateLimit, 'Empty: no limit.')),
    error,
    h('div', { class: 'actions' }, submit, h('a', { class: 'btn ghost', href: back }, 'Cancel')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.hidden = true;
    if (!url.value.trim()) return showFormError(error, new Error('Enter the endpoint URL.'));
    const eventTypes = picker.value();
    const body = {
      url: url.value.trim(),
      description: description.value,
      eventTypes: eventTypes.length ? eventTypes : null,
      channels: listOfLines(channels.value),
      rateLimit: rateLimit.value ? Number(rateLimit.value) : null,
    };
    await busy(submit, async () => {
      try {
        const saved = editing ? await patch(`${base}/${seg(endpoint.id)}`, body) : await post(base, body);
        toast(editing ? 'Endpoint saved.' : 'Endpoint added.');
        navigate(`/endpoints/${seg(saved.id)}`);
      } catch (err) {
        showFormError(error, err);
      }
    });
  });
  replace(root, pageHead(editing ? 'Edit endpoint' : 'Add endpoint', { crumbs: [['Endpoints', '#/'], [editing ? 'Edit' : 'New']] }), form);
  url.focus();
}

/** `datetime-local` value for a Date, in local time. */
const localInput = (date) => new Date(date.getTime() - date.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);

export async function endpointView({ params, session, signal, setTitle, root }) {
  const [epId] = params;
  const base = `${appBase(session)}/endpoints/${seg(epId)}`;
  let [endpoint, types] = await Promise.all([get(base, { signal }), loadEventTypes(signal)]);
  setTitle(endpoint.url);
  const writable = !session.readOnly;

  const info = h('div', {});
  const stateButton = h('button', { type: 'button', class: 'btn' });
  const renderInfo = () => {
    stateButton.textContent = endpoint.disabled ? 'Enable' : 'Disable';
    replace(info, dl([
      ['State', endpointState(endpoint)],
      endpoint.failingSince ? ['Failing since', time(endpoint.failingSince)] : null,
      ['Event types', endpoint.eventTypes?.length ? endpoint.eventTypes.join(', ') : 'Every event type'],
      ['Channels', endpoint.channels?.length ? endpoint.channels.join(', ') : 'Every channel'],
      ['Rate limit', endpoint.rateLimit ? `${endpoint.rateLimit} per second` : 'None'],
      ['Id', h('span', { class: 'mono' }, endpoint.id)],
      ['Updated', time(endpoint.updatedAt)],
    ]));
  };
  stateButton.addEventListener('click', () => busy(stateButton, async () => {
    endpoint = await patch(base, { disabled: !endpoint.disabled });
    toast(endpoint.disabled ? 'Endpoint disabled.' : 'Endpoint enabled. Use Recover to get what failed meanwhile.');
    renderInfo();
  }));

  // ---- signing secret ----
  const secretOut = h('div', { class: 'secret-out', 'aria-live': 'polite' });
  const reveal = h('button', { type: 'button', class: 'btn', 'aria-expanded': 'false' }, 'Reveal secret');
  const showSecret = async () => {
    const { key } = await get(`${base}/secret`, { signal });
    replace(secretOut, h('div', { class: 'url-row' },
      h('input', { type: 'text', readonly: 'true', class: 'mono url-input', value: key, 'aria-label': 'Signing secret', 'data-secret': '' }),
      copyButton(key, 'Copy secret')));
    reveal.textContent = 'Hide secret';
    reveal.setAttribute('aria-expanded', 'true');
  };
  reveal.addEventListener('click', () => busy(reveal, async () => {
    if (reveal.getAttribute('aria-expanded') === 'false') return showSecret();
    secretOut.replaceChildren();
    reveal.textContent = 'Reveal secret';
    reveal.setAttribute('aria-expanded', 'false');
  }));
  const rotate = confirmButton('Rotate secret', {
    question: 'Make a new secret? The old one keeps signing beside it for 24 hours.',
    confirmLabel: 'Rotate now',
    onConfirm: async () => {
      try {
        await post(`${base}/secret/rotate`, {});
        toast('Secret rotated: the previous one keeps signing for 24 hours.');
        await showSecret();
      } catch (err) {
        toast(err.message, 'bad');
      }
    },
  });

  // ---- test event ----
  const testType = select(types.length ? types.map((t) => [t.name, t.name]) : [['', 'No event types published']], types[0]?.name);
  const testPayload = h('textarea', { rows: 6, class: 'mono', spellcheck: 'false' });
  const fillExample = () => { testPayload.value = pretty(types.find((t) => t.name === testType.value)?.example ?? {}); };
  testType.addEventListener('change', fillExample);
  fillExample();
  const testButton = h('button', { type: 'submit', class: 'btn', disabled: types.length === 0 }, 'Send test event');
  const testForm = h('form', { class: 'stack', 'aria-label': 'Send a test event' },
    field('Event type', testType), field('Payload', testPayload, 'The event type’s example; edit it as you like.'), h('div', { class: 'actions' }, testButton));
  testForm.addEventListener('submit', (event) => {
    event.preventDefault();
    busy(testButton, async () => {
      let payload;
      try {
        payload = JSON.parse(testPayload.value);
      } catch (err) {
        throw new Error(`The payload is not valid JSON: ${err.message}`);
      }
      const message = await post(`${base}/test`, { eventType: testType.value, payload });
      toast('Test event sent.');
      navigate(`/messages/${seg(message.id)}`);
    });
  });

  // ---- recover ----
  const since = h('input', { type: 'datetime-local', value: localInput(new Date(Date.now() - 24 * 3600_000)), required: true });
  const recoverButton = h('button', { type: 'submit', class: 'btn' }, 'Recover failed messages');
  const recoverForm = h('form', { class: 'inline-form', 'aria-label': 'Recover failed messages' }, field('Since', since), recoverButton);
  recoverForm.addEventListener('submit', (event) => {
    event.preventDefault();
    busy(recoverButton, async () => {
      if (!since.value) throw new Error('Pick the start of the window.');
      const result = await post(`${base}/recover`, { since: new Date(since.value).toISOString() });
      toast(result.count === 0 ? 'No failed messages since then.' : `${result.count} failed message${result.count === 1 ? '' : 's'} queued again.`);
      await timeline.reload();
    });
  });

  // ---- attempts ----
  const timeline = attemptTimeline(get, `${base}/attempts`, signal, { link: 'message', base: '#' });
  const refresh = h('button', { type: 'button', class: 'btn small' }, 'Refresh');
  refresh.addEventListener('click', () => busy(refresh, timeline.reload));

  const remove = confirmButton('Delete', {
    danger: true,
    question: 'Delete this endpoint? It stops receiving webhooks.',
    confirmLabel: 'Delete endpoint',
    onConfirm: async () => {
      try {
        await del(base);
        toast('Endpoint deleted.');
        navigate('/');
      } catch (err) {
        toast(err.message, 'bad');
      }
    },
  });

  replace(root,
    pageHead(endpoint.url, {
      crumbs: [['Endpoints', '#/'], ['Endpoint']],
      sub: endpoint.description || null,
      actions: writable ? [h('a', { class: 'btn', href: `#/endpoints/${seg(endpoint.id)}/edit` }, 'Edit'), stateButton, remove] : [],
    }),
    h('div', { class: 'grid2 top' },
      card('Settings', info),
      h('div', { class: 'stack' },
        card('Signing secret',
          h('p', { class: 'muted small' }, 'Verify the webhook-signature header of each request with it.'),
          h('div', { class: 'actions' }, reveal, writable ? rotate : null),
          secretOut),
        writable ? card('Send a test event', testForm) : null,
        writable ? card('Recover', h('p', { class: 'muted small' }, 'Send every message that failed since a time to this endpoint again.'), recoverForm) : null)),
    card(null, h('div', { class: 'section-head' }, h('h2', {}, 'Attempts'), refresh), ...timeline.nodes));
  renderInfo();
  await timeline.reload();
}
