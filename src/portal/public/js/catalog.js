// The event catalog: what the app sends, with each type's description and an example payload from its schema.
import { card, checkbox, empty, h, pageHead, pretty, replace } from '../../../dashboard/js/dom.js';
import { get } from './client.js';

/** Every event type (the catalog is small: one page of 250). */
export const loadEventTypes = (signal) => get('/api/v1/event-types?limit=250', { signal }).then((r) => r.data);

const example = (type) =>
  type.example === null || type.example === undefined
    ? null
    : h('details', {}, h('summary', {}, 'Example payload'), h('pre', { class: 'code', tabindex: '0' }, pretty(type.example)));

export async function catalogView({ signal, setTitle, root }) {
  setTitle('Event catalog');
  const types = await loadEventTypes(signal);
  replace(root,
    pageHead('Event catalog', { sub: 'The events this service sends. Subscribe an endpoint to the ones you need.' }),
    card(null, types.length === 0
      ? empty('No event types are published yet.')
      : h('ul', { class: 'catalog', 'data-list': '' }, types.map((type) => h('li', { dataset: { type: type.name } },
        h('h2', { class: 'mono' }, type.name),
        type.description ? h('p', {}, type.description) : null,
        example(type))))));
}

/**
 * Checkboxes for the endpoint form, one per catalog type with its description and example. `value()` gives the ticked
 * names plus any that are subscribed but no longer in the catalog (kept, so that saving does not drop them).
 */
export function eventTypePicker(types, selected) {
  const known = new Set(types.map((t) => t.name));
  const kept = [...selected].filter((name) => !known.has(name));
  const boxes = types.map((type) => ({ type, box: checkbox(type.name, { checked: selected.has(type.name), value: type.name }) }));
  const el = h('fieldset', {},
    h('legend', {}, 'Event types'),
    h('p', { class: 'muted small' }, 'Only the ticked events are sent to this endpoint. None ticked: every event.'),
    boxes.length === 0 ? empty('No event types are published yet: this endpoint gets every event.') : null,
    h('div', { class: 'type-pick' }, boxes.map(({ type, box }) => h('div', {},
      box.el,
      type.description ? h('span', { class: 'type-desc' }, type.description) : null,
      example(type)))),
    kept.length ? h('p', { class: 'small muted' }, `Also subscribed: ${kept.join(', ')}`) : null);
  return { el, value: () => [...boxes.filter(({ box }) => box.input.checked).map(({ type }) => type.name), ...kept] };
}
