// The overview: requests and deliveries per minute, success rate, queue depth, failing endpoints.
import { get, seg } from '../api.js';
import { card, empty, errorBox, h, replace, time } from '../dom.js';
import { shortUrl } from './apps.js';

const REFRESH_MS = 15_000;

export async function overviewView({ signal, setTitle, root }) {
  setTitle('Overview');
  const body = h('div', { class: 'overview' });
  const updated = h('span', { class: 'small muted', 'aria-live': 'polite' });
  const refreshButton = h('button', { type: 'button', class: 'btn small' }, 'Refresh');
  replace(root,
    h('div', { class: 'page-head' },
      h('div', { class: 'page-title' }, h('h1', {}, 'Overview'), h('div', { class: 'actions' }, updated, refreshButton)),
      h('p', { class: 'sub' }, 'The last hour of this installation. Refreshes every 15 seconds.')),
    body);

  let timer;
  const load = async () => {
    clearTimeout(timer);
    try {
      const stats = await get('/api/v1/stats', { signal });
      renderStats(body, stats);
    } catch (err) {
      if (signal.aborted) return;
      if (err.status === 404) await renderFallback(body, signal);
      else replace(body, errorBox(err));
    }
    updated.textContent = `Updated ${new Date().toLocaleTimeString()}`;
    if (!signal.aborted) timer = setTimeout(() => load().catch(() => {}), REFRESH_MS);
  };
  refreshButton.addEventListener('click', () => load().catch(() => {}));
  signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
  await load();
}

const sum = (values) => values.reduce((a, b) => a + b, 0);

/** successRate may come as a fraction (0..1) or a percentage: shown as a percentage either way. */
function percent(rate) {
  if (rate === null || rate === undefined || Number.isNaN(rate)) return '—';
  const value = rate <= 1 ? rate * 100 : rate;
  return `${value >= 99.95 || value === 0 ? value.toFixed(0) : value.toFixed(1)}%`;
}

function tile(label, value, note, kind) {
  return h('div', { class: ['tile', kind && `tile-${kind}`] }, h('span', { class: 'tile-label' }, label), h('span', { class: 'tile-value' }, value), note ? h('span', { class: 'tile-note' }, note) : null);
}

function renderStats(body, stats) {
  const minutes = stats.minutes ?? [];
  const requests = minutes.map((m) => m.requests ?? 0);
  const success = minutes.map((m) => m.deliveries?.success ?? 0);
  const failed = minutes.map((m) => m.deliveries?.failed ?? 0);
  const queue = stats.queue ?? { pending: 0, sending: 0 };
  const jobs = stats.jobs ?? { pending: 0, running: 0 };
  const failing = stats.failingEndpoints ?? [];
  const rate = stats.successRate;
  const rateKind = rate === null || rate === undefined ? null : (rate <= 1 ? rate : rate / 100) >= 0.99 ? 'ok' : (rate <= 1 ? rate : rate / 100) >= 0.9 ? 'warn' : 'bad';
  replace(body,
    h('div', { class: 'tiles' },
      tile('Requests received', String(sum(requests)), 'last 60 minutes'),
      tile('Deliveries', String(sum(success) + sum(failed)), `${sum(success)} succeeded · ${sum(failed)} failed`),
      tile('Success rate', percent(rate), rate === null || rate === undefined ? 'no attempts in the last hour' : 'attempts, last hour', rateKind),
      tile('Queue depth', String((queue.pending ?? 0) + (queue.sending ?? 0)), `${queue.pending ?? 0} pending · ${queue.sending ?? 0} sending`),
      tile('Processing jobs', String((jobs.pending ?? 0) + (jobs.running ?? 0)), `${jobs.pending ?? 0} pending · ${jobs.running ?? 0} running`),
      tile('Failing endpoints', String(failing.length), failing.some((f) => f.disabled) ? `${failing.filter((f) => f.disabled).length} disabled` : null, failing.length ? 'bad' : 'ok')),
    h('div', { class: 'grid2' },
      card('Requests per minute', barChart([requests], ['requests'], minutes, 'requests')),
      card('Deliveries per minute', barChart([success, failed], ['success', 'failed'], minutes, 'delivery attempts'),
        h('p', { class: 'legend small' }, h('span', { class: 'swatch swatch-success' }), ' succeeded ', h('span', { class: 'swatch swatch-failed' }), ' failed'))),
    failingCard(failing));
}

/** Stacked bars, one per minute, as inline SVG (no chart library). */
function barChart(series, classes, minutes, noun) {
  const n = Math.max(minutes.length, 1);
  const totals = Array.from({ length: n }, (_, i) => sum(series.map((s) => s[i] ?? 0)));
  const peak = Math.max(1, ...totals);
  const W = 600;
  const H = 120;
  const gap = 2;
  const bw = W / n - gap;
  const total = sum(totals);
  const svg = h('svg:svg', { viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'none', class: 'chart', role: 'img', 'aria-label': `${total} ${noun} in the last ${minutes.length} minutes; at most ${Math.max(0, ...totals)} in one minute` });
  for (let i = 0; i < n; i++) {
    let y = H;
    series.forEach((s, k) => {
      const v = s[i] ?? 0;
      if (v <= 0) return;
      const height = Math.max(1, (v / peak) * (H - 4));
      y -= height;
      const rect = h('svg:rect', { x: (i * (bw + gap)).toFixed(2), y: y.toFixed(2), width: Math.max(bw, 1).toFixed(2), height: height.toFixed(2), class: `bar bar-${classes[k]}` });
      rect.append(h('svg:title', {}, `${minutes[i]?.minute ? new Date(minutes[i].minute).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) : ''}: ${v} ${classes[k]}`));
      svg.append(rect);
    });
  }
  svg.append(h('svg:line', { x1: 0, y1: H - 0.5, x2: W, y2: H - 0.5, class: 'axis' }));
  return h('figure', { class: 'chart-figure' },
    h('div', { class: 'chart-peak small muted' }, `peak ${Math.max(0, ...totals)}/min`),
    svg,
    h('figcaption', { class: 'chart-axis small muted' }, h('span', {}, minutes[0]?.minute ? `${minutes.length} min ago` : ''), h('span', {}, 'now')));
}

function failingCard(failing) {
  return card('Failing endpoints',
    failing.length === 0
      ? empty('No endpoint is failing.')
      : h('ul', { class: 'rows', 'data-list': '' }, failing.map((ep) => h('li', { class: 'row' },
        h('div', { class: 'row-main' },
          h('a', { href: `#/apps/${seg(ep.appId)}/endpoints/${seg(ep.id)}`, class: 'row-title mono', 'data-item': '' }, shortUrl(ep.url)),
          h('p', { class: 'small mono muted' }, ep.appId)),
        h('div', { class: 'row-meta' },
          ep.disabled
            ? h('span', { class: 'chip chip-bad' }, ep.disabledReason ? `disabled: ${ep.disabledReason}` : 'disabled')
            : h('span', { class: 'chip chip-bad' }, 'failing'),
          ep.failingSince ? h('span', { class: 'small' }, 'since ', time(ep.failingSince)) : null)))));
}

// ---- fallback while GET /api/v1/stats is missing: what /metrics and the endpoint lists tell ----

function parseMetrics(text) {
  const values = new Map();
  for (const line of String(text).split('\n')) {
    const match = /^([a-z_:]+)(\{[^}]*\})?\s+([-+0-9.eE]+|NaN)$/.exec(line.trim());
    if (match) values.set(`${match[1]}${match[2] ?? ''}`, Number(match[3]));
  }
  return (name, labels = '') => values.get(`${name}${labels}`) ?? 0;
}

async function renderFallback(body, signal) {
  const [metricsText, failing] = await Promise.all([
    fetch('metrics', { signal, cache: 'no-store' }).then((r) => (r.ok ? r.text() : '')).catch(() => ''),
    failingFromLists(signal).catch(() => null),
  ]);
  const m = parseMetrics(metricsText);
  const ok = m('hookyard_delivery_attempts_total', '{outcome="success"}');
  const bad = m('hookyard_delivery_attempts_total', '{outcome="failed"}');
  const inbound = ['accepted', 'rejected', 'duplicate'].map((s) => m('hookyard_inbound_requests_total', `{status="${s}"}`));
  replace(body,
    h('p', { class: 'panel panel-warn', role: 'note' }, 'Per-minute statistics are not available from this server (GET /api/v1/stats). Showing the totals since the process started, from /metrics.'),
    h('div', { class: 'tiles' },
      tile('Requests received', String(sum(inbound)), `${inbound[0]} accepted · ${inbound[1]} rejected · ${inbound[2]} duplicate`),
      tile('Delivery attempts', String(ok + bad), `${ok} succeeded · ${bad} failed`),
      tile('Success rate', ok + bad === 0 ? '—' : percent(ok / (ok + bad)), 'since start'),
      tile('Queue depth', String(m('hookyard_queue_depth', '{status="pending"}') + m('hookyard_queue_depth', '{status="sending"}')), `${m('hookyard_queue_depth', '{status="pending"}')} pending · ${m('hookyard_queue_depth', '{status="sending"}')} sending`),
      tile('Processing jobs', String(m('hookyard_inbound_jobs', '{status="pending"}') + m('hookyard_inbound_jobs', '{status="running"}')), null),
      tile('Failing endpoints', failing === null ? '—' : String(failing.length), null, failing?.length ? 'bad' : 'ok')),
    failing === null ? null : failingCard(failing));
}

/** Failing or disabled endpoints of the first 50 apps. */
async function failingFromLists(signal) {
  const apps = (await get('/api/v1/apps?limit=50', { signal })).data;
  const lists = await Promise.all(apps.map((app) => get(`/api/v1/apps/${seg(app.id)}/endpoints?limit=250`, { signal }).then((r) => r.data).catch(() => [])));
  return lists.flat().filter((ep) => ep.disabled || ep.failingSince);
}
