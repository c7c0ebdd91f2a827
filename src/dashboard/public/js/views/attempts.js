// The attempt timeline, shared by the message and endpoint pages.
import { seg, withQuery } from '../api.js';
import { append, chip, codeChip, empty, h, pager, prettyBody, time } from '../dom.js';

/**
 * One attempt as a timeline entry: outcome, response code, duration, trigger, time, then the response body and error
 * in a disclosure. `link` is 'message' or 'endpoint': what the entry links to, under `base` (the app's pages in the
 * dashboard; the consumer portal, which has one app, passes '#').
 */
export function attemptItem(attempt, { appRef, link, endpointLabel, base = `#/apps/${seg(appRef)}` }) {
  const body = prettyBody(attempt.response, 'utf8', '');
  const target = link === 'message'
    ? h('a', { href: `${base}/messages/${seg(attempt.messageId)}`, class: 'mono small' }, attempt.messageId)
    : h('a', { href: `${base}/endpoints/${seg(attempt.endpointId)}`, class: 'mono small' }, endpointLabel ?? attempt.endpointId);
  return h('li', { class: ['attempt', `attempt-${attempt.status}`], dataset: { id: attempt.id, status: attempt.status } },
    h('span', { class: 'dot', 'aria-hidden': 'true' }),
    h('div', { class: 'attempt-body' },
      h('div', { class: 'attempt-head' },
        h('strong', {}, `Attempt ${attempt.attempt}`),
        chip(attempt.status),
        codeChip(attempt.responseStatusCode),
        h('span', { class: 'small' }, `${attempt.durationMs} ms`),
        chip(attempt.trigger),
        time(attempt.timestamp)),
      h('div', { class: 'attempt-target' }, target),
      attempt.error ? h('p', { class: 'reason' }, attempt.error) : null,
      attempt.nextAttemptAt ? h('p', { class: 'small muted' }, 'next attempt ', time(attempt.nextAttemptAt)) : null,
      attempt.response
        ? h('details', {},
          h('summary', {}, `Response body (${attempt.response.length} characters${attempt.response.length >= 4096 ? ', first 4 KB' : ''})`),
          h('pre', { class: 'code', tabindex: '0' }, body.pretty))
        : h('p', { class: 'small muted' }, 'Empty response body.')));
}

/**
 * An endpoint's attempts, newest first, 25 at a time: `nodes` to place (the list, its empty note, "Load more") and
 * `reload()`. `get` is the page's API client (the dashboard's or the portal's); `item` the attemptItem options.
 */
export function attemptTimeline(get, path, signal, item) {
  const list = h('ol', { class: 'timeline', 'aria-label': 'Attempts, newest first' });
  const none = empty('No attempts yet.');
  const more = pager(async (cursor) => {
    const page = await get(withQuery(path, { limit: 25, cursor }), { signal });
    append(list, page.data.map((a) => attemptItem(a, item)));
    return page.nextCursor;
  });
  const reload = async () => {
    const page = await get(withQuery(path, { limit: 25 }), { signal });
    list.replaceChildren(...page.data.map((a) => attemptItem(a, item)));
    none.hidden = page.data.length > 0;
    more.set(page.nextCursor);
  };
  return { nodes: [list, none, more.el], reload };
}
