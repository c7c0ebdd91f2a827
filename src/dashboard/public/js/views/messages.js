// Messages: send one, and one message's deliveries (per endpoint) and attempt timeline.
import { get, post, seg } from '../api.js';
import {
  busy, card, follower, chip, dl, empty, field, h, pageHead, pretty, replace, showFormError, time, toast,
} from '../dom.js';
import { navigate } from '../nav.js';
import { shortUrl } from './apps.js';
import { attemptItem } from './attempts.js';

export async function sendMessageView({ params, signal, setTitle, root }) {
  const [appRef] = params;
  const [app, eventTypes] = await Promise.all([
    get(`/api/v1/apps/${seg(appRef)}`, { signal }),
    get('/api/v1/event-types?limit=250', { signal }).then((r) => r.data).catch(() => []),
  ]);
  setTitle(`Send a message · ${app.name}`);
  const eventType = h('input', { type: 'text', required: true, list: 'send-event-types', class: 'mono', autocomplete: 'off', spellcheck: 'false', placeholder: 'invoice.paid' });
  const datalist = h('datalist', { id: 'send-event-types' }, eventTypes.map((t) => h('option', { value: t.name }, t.description || t.name)));
  const payload = h('textarea', { rows: 8, class: 'mono', spellcheck: 'false' }, '{\n  "hello": "world"\n}');
  const eventId = h('input', { type: 'text', class: 'mono', autocomplete: 'off', spellcheck: 'false' });
  const error = h('div', { role: 'alert', class: 'form-error', hidden: true });
  const submit = h('button', { type: 'submit', class: 'btn primary' }, 'Send');
  const form = h('form', { class: 'stack form', novalidate: true, 'aria-label': 'Send a message' },
    card(null,
      field('Event type', eventType, 'Endpoints subscribed to it (or to every type) get a delivery.', { required: true }), datalist,
      field('Payload (JSON object)', payload, null, { required: true }),
      field('Event id (optional)', eventId, 'Your id for this event: the same id twice in this app is refused, so a retried send cannot duplicate.')),
    error,
    h('div', { class: 'actions' }, submit, h('a', { class: 'btn ghost', href: `#/apps/${seg(appRef)}/messages` }, 'Cancel')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.hidden = true;
    let body;
    try {
      if (!eventType.value.trim()) throw new Error('Enter an event type.');
      let parsed;
      try {
        parsed = JSON.parse(payload.value);
      } catch (err) {
        throw new Error(`The payload is not valid JSON: ${err.message}`);
      }
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('The payload must be a JSON object.');
      body = { eventType: eventType.value.trim(), payload: parsed, ...(eventId.value.trim() ? { eventId: eventId.value.trim() } : {}) };
    } catch (err) {
      showFormError(error, err);
      return;
    }
    await busy(submit, async () => {
      try {
        const message = await post(`/api/v1/apps/${seg(app.id)}/messages`, body);
        toast('Message accepted.');
        navigate(`/apps/${seg(appRef)}/messages/${seg(message.id)}`);
      } catch (err) {
        showFormError(error, err);
      }
    });
  });
  replace(root,
    pageHead('Send a message', { crumbs: [[app.name, `#/apps/${seg(appRef)}`], ['Messages', `#/apps/${seg(appRef)}/messages`], ['Send']] }),
    form);
  eventType.focus();
}

export async function messageView({ params, signal, setTitle, root }) {
  const [appRef, msgId] = params;
  const app = await get(`/api/v1/apps/${seg(appRef)}`, { signal });
  const base = `/api/v1/apps/${seg(app.id)}`;
  const [message, endpoints] = await Promise.all([
    get(`${base}/messages/${seg(msgId)}`, { signal }),
    get(`${base}/endpoints?limit=250`, { signal }).then((r) => r.data),
  ]);
  setTitle(`${message.eventType} · ${app.name}`);
  const byId = new Map(endpoints.map((ep) => [ep.id, ep]));

  const deliveries = h('div', {});
  const timeline = h('ol', { class: 'timeline', 'aria-label': 'Attempts, newest first' });
  const timelineEmpty = empty('No attempts yet.');
  const updated = h('span', { class: 'small muted', 'aria-live': 'polite' });

  async function refresh() {
    const [d, a] = await Promise.all([
      get(`${base}/messages/${seg(message.id)}/deliveries`, { signal }),
      get(`${base}/messages/${seg(message.id)}/attempts?limit=100`, { signal }),
    ]);
    renderDeliveries(d.data);
    timeline.replaceChildren(...a.data.map((attempt) => attemptItem(attempt, { appRef, link: 'endpoint', endpointLabel: byId.get(attempt.endpointId)?.url })));
    timelineEmpty.hidden = a.data.length > 0;
    updated.textContent = `Updated ${new Date().toLocaleTimeString()}`;
    return d.data.some((x) => x.status === 'pending' || x.status === 'sending');
  }

  function renderDeliveries(list) {
    if (list.length === 0) {
      replace(deliveries, empty(endpoints.length
        ? 'No endpoint was subscribed to this event type when it was sent. Send it to one below to deliver it anyway.'
        : 'This app has no endpoints: add one, then send the message to it from here.'));
    } else {
      replace(deliveries, h('ul', { class: 'rows' }, list.map((d) => {
        const ep = byId.get(d.endpointId);
        return h('li', { class: 'row', dataset: { endpoint: d.endpointId, status: d.status } },
          h('div', { class: 'row-main' },
            h('a', { href: `#/apps/${seg(appRef)}/endpoints/${seg(d.endpointId)}`, class: 'row-title mono' }, ep ? shortUrl(ep.url) : d.endpointId),
            d.lastError ? h('p', { class: 'reason' }, d.lastError) : null,
            d.nextAttemptAt && d.status !== 'succeeded' ? h('p', { class: 'small muted' }, 'next attempt ', time(d.nextAttemptAt)) : null),
          h('div', { class: 'row-meta' },
            chip(d.status),
            h('span', { class: 'small' }, `${d.attempts} attempt${d.attempts === 1 ? '' : 's'}`),
            resendButton(d.endpointId, ep)));
      })));
    }
    // Endpoints without a delivery for this message can still get it by resend.
    const others = endpoints.filter((ep) => !list.some((d) => d.endpointId === ep.id));
    if (others.length) {
      deliveries.append(h('details', { class: 'others' },
        h('summary', {}, `Send to another endpoint (${others.length})`),
        h('ul', { class: 'rows' }, others.map((ep) => h('li', { class: 'row' },
          h('div', { class: 'row-main' }, h('span', { class: 'mono' }, shortUrl(ep.url))),
          h('div', { class: 'row-meta' }, resendButton(ep.id, ep)))))));
    }
  }

  function resendButton(endpointId, ep) {
    const button = h('button', { type: 'button', class: 'btn small', disabled: ep?.disabled ?? false, title: ep?.disabled ? 'The endpoint is disabled' : null, 'aria-label': `Resend to ${ep?.url ?? endpointId}` }, 'Resend');
    button.addEventListener('click', () => busy(button, async () => {
      await post(`${base}/messages/${seg(message.id)}/endpoints/${seg(endpointId)}/resend`);
      toast('Resend queued: one more attempt now.');
      await follow();
    }));
    return button;
  }

  const follow = follower(refresh, signal);

  const refreshButton = h('button', { type: 'button', class: 'btn small' }, 'Refresh');
  refreshButton.addEventListener('click', () => busy(refreshButton, refresh));

  replace(root,
    pageHead(message.eventType, {
      crumbs: [[app.name, `#/apps/${seg(appRef)}`], ['Messages', `#/apps/${seg(appRef)}/messages`], [message.id]],
      sub: h('span', { class: 'mono small' }, message.id),
    }),
    h('div', { class: 'grid2 top' },
      card('Message',
        dl([
          ['Sent', time(message.timestamp)],
          ['Event type', message.eventType],
          ['Event id', message.eventId ?? '—'],
        ]),
        h('h3', {}, 'Payload'),
        h('pre', { class: 'code', tabindex: '0', 'aria-label': 'Payload' }, pretty(message.payload))),
      card(null, h('div', { class: 'section-head' }, h('h2', {}, 'Deliveries'), updated, refreshButton), deliveries)),
    card('Attempts', timeline, timelineEmpty));
  if (await refresh()) follow().catch(() => {});
}
