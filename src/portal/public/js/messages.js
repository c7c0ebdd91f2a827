// The customer's messages: the list (by event type), and one message's payload, deliveries (resend) and attempts.
import { seg, withQuery } from '../../../dashboard/js/api.js';
import { append, busy, card, follower, chip, dl, empty, field, h, pageHead, pager, pretty, replace, select, time, toast } from '../../../dashboard/js/dom.js';
import { setQuery } from '../../../dashboard/js/nav.js';
import { shortUrl } from '../../../dashboard/js/views/apps.js';
import { attemptItem } from '../../../dashboard/js/views/attempts.js';
import { loadEventTypes } from './catalog.js';
import { get, post } from './client.js';

const appBase = (session) => `/api/v1/apps/${seg(session.app.id)}`;

export async function messagesView({ session, query, signal, setTitle, root }) {
  setTitle('Messages');
  const types = await loadEventTypes(signal);
  const filter = select([['', 'All event types'], ...types.map((t) => [t.name, t.name])], query.eventType ?? '');
  filter.dataset.filter = '';
  const list = h('ul', { class: 'rows', 'data-list': '', 'aria-label': 'Messages, newest first' });
  const none = empty('No messages yet.');
  const url = (cursor) => withQuery(`${appBase(session)}/messages`, { limit: 50, cursor, eventType: filter.value });
  const more = pager(async (cursor) => {
    const page = await get(url(cursor), { signal });
    append(list, page.data.map(messageRow));
    return page.nextCursor;
  });
  const load = async () => {
    const page = await get(url(), { signal });
    list.replaceChildren(...page.data.map(messageRow));
    none.hidden = page.data.length > 0;
    more.set(page.nextCursor);
  };
  filter.addEventListener('change', () => {
    setQuery(filter.value ? { eventType: filter.value } : {});
    load().catch((err) => toast(err.message, 'bad'));
  });
  await load();
  replace(root,
    pageHead('Messages', { sub: 'Every webhook sent to your endpoints, newest first.' }),
    card(null, h('div', { class: 'inline-form' }, field('Event type', filter)), list, none, more.el));
}

const messageRow = (message) =>
  h('li', { class: 'row', dataset: { message: message.id } },
    h('div', { class: 'row-main' },
      h('a', { href: `#/messages/${seg(message.id)}`, class: 'row-title', 'data-item': '' }, message.eventType),
      h('p', { class: 'small mono muted' }, message.id)),
    h('div', { class: 'row-meta' }, time(message.timestamp)));

export async function messageView({ params, session, signal, setTitle, root }) {
  const [msgId] = params;
  const base = appBase(session);
  const [message, endpoints] = await Promise.all([
    get(`${base}/messages/${seg(msgId)}`, { signal }),
    get(`${base}/endpoints?limit=250`, { signal }).then((r) => r.data),
  ]);
  setTitle(message.eventType);
  const byId = new Map(endpoints.map((ep) => [ep.id, ep]));
  const deliveries = h('div', {});
  const timeline = h('ol', { class: 'timeline', 'aria-label': 'Attempts, newest first' });
  const timelineEmpty = empty('No attempts yet.');

  async function refresh() {
    const [d, a] = await Promise.all([
      get(`${base}/messages/${seg(message.id)}/deliveries`, { signal }),
      get(`${base}/messages/${seg(message.id)}/attempts?limit=100`, { signal }),
    ]);
    replace(deliveries, d.data.length === 0
      ? empty('None of your endpoints was subscribed to this event.')
      : h('ul', { class: 'rows' }, d.data.map((delivery) => {
        const ep = byId.get(delivery.endpointId);
        return h('li', { class: 'row', dataset: { endpoint: delivery.endpointId, status: delivery.status } },
          h('div', { class: 'row-main' },
            h('a', { href: `#/endpoints/${seg(delivery.endpointId)}`, class: 'row-title mono' }, ep ? shortUrl(ep.url) : delivery.endpointId),
            delivery.lastError ? h('p', { class: 'reason' }, delivery.lastError) : null),
          h('div', { class: 'row-meta' },
            chip(delivery.status),
            h('span', { class: 'small' }, `${delivery.attempts} attempt${delivery.attempts === 1 ? '' : 's'}`),
            session.readOnly ? null : resendButton(delivery.endpointId, ep)));
      })));
    timeline.replaceChildren(...a.data.map((attempt) => attemptItem(attempt, { link: 'endpoint', base: '#', endpointLabel: byId.get(attempt.endpointId)?.url })));
    timelineEmpty.hidden = a.data.length > 0;
    return d.data.some((x) => x.status === 'pending' || x.status === 'sending');
  }

  function resendButton(endpointId, ep) {
    const button = h('button', { type: 'button', class: 'btn small', disabled: ep?.disabled ?? false, 'aria-label': `Resend to ${ep?.url ?? endpointId}` }, 'Resend');
    button.addEventListener('click', () => busy(button, async () => {
      await post(`${base}/messages/${seg(message.id)}/endpoints/${seg(endpointId)}/resend`);
      toast('Resend queued.');
      await follow();
    }));
    return button;
  }

  const follow = follower(refresh, signal);

  const refreshButton = h('button', { type: 'button', class: 'btn small' }, 'Refresh');
  refreshButton.addEventListener('click', () => busy(refreshButton, refresh));
  replace(root,
    pageHead(message.eventType, { crumbs: [['Messages', '#/messages'], [message.id]], sub: h('span', { class: 'mono small' }, message.id) }),
    h('div', { class: 'grid2 top' },
      card('Message',
        dl([['Sent', time(message.timestamp)], ['Event type', message.eventType], ['Event id', message.eventId ?? '—']]),
        h('h3', {}, 'Payload'),
        h('pre', { class: 'code', tabindex: '0', 'aria-label': 'Payload' }, pretty(message.payload))),
      card(null, h('div', { class: 'section-head' }, h('h2', {}, 'Deliveries'), refreshButton), deliveries)),
    card('Attempts', timeline, timelineEmpty));
  if (await refresh()) follow().catch(() => {});
}

