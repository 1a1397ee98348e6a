'use strict';
// The csmetrics dashboard page. Everything shown comes from the server:
//   /api/figures  which figures exist, their kinds and units (the page lays itself out by it,
//                 so a new plugin's figures appear without changing this file)
//   /api/shops    the shops, each with its time zone and satisfaction target
//   /api/report   a shop's figures for a day or range (the `csmetrics report --json` shape)
//   /api/alerts/stream  the shop's new alerts, as server-sent events
// Text from the server is always set with textContent, never parsed as HTML.

// What the cards and agent cells are coloured against (docs/dashboard.md): targets are
// declared by the plugins with their figures and served per shop (/api/shops: a shop's
// own setting, e.g. shops.<id>.satisfaction_target, else the declared value).
const targetOf = (name) => {
  const t = state.shop.targets && state.shop.targets[name];
  if (!t) return null;
  return t.dir === 'at_least' ? { min: t.value } : { max: t.value };
};

// Readable titles of the figures of metrics.md, with the platforms' own names. A figure
// missing here is titled from its name.
const TITLES = {
  sessions_started: ['Sessions', '发起会话数'],
  human_requested: ['Human requests', '转人工会话量'],
  assigned: ['Assigned', '人工接待量'],
  pickup_rate: ['Pickup rate', '接起率'],
  avg_queue_ms: ['Avg queue time', '平均排队时长'],
  first_reply_2m_rate: ['2-min first reply', '2分钟首次回复率'],
  avg_first_resp_ms: ['Avg first response', '平均首次响应时长'],
  avg_resp_ms: ['Avg response', '平均响应时长'],
  resp_30s_rate: ['30 s response', '30秒响应率'],
  resp_60s_rate: ['60 s response', '60秒响应率'],
  human_reply_3m_rate: ['3-min human reply', '3分钟人工回复率'],
  unserved_rate: ['Unserved rate', '人工不服务率'],
  unserved_noreply: ['Unserved (no reply)', '不服务'],
  satisfaction_rate: ['Satisfaction', '满意率'],
  very_satisfied_rate: ['Very satisfied', '非常满意率'],
  dissatisfied_rate: ['Dissatisfied', '不满意率'],
  rating_rate: ['Rating rate', '评价率'],
  fcr_3d_rate: ['After-sale 3-day FCR', '售后3日FCR'],
  avg_refund_ms: ['Avg refund time', '平均退款处理时长'],
  resolution_rate: ['After-sale resolution', '售后解决率'],
  first_reply_2m: ['2-min first replies', ''],
  unserved: ['Unserved', ''],
  rated: ['Rated', ''],
  rated_4_5: ['Rated 4–5 ★', ''],
};
const COLOURS = ['#2f5bd3', '#9aa9d6', '#137a3c', '#b42318', '#7a4fd6', '#e3a008'];
const HOURS = Array.from({ length: 24 }, (_, h) => String(h).padStart(2, '0'));

const state = {
  meta: {},         // figure name -> metadata (/api/figures)
  order: [],        // figure names in the table's order
  hourlyNames: [],
  shops: [],
  shop: null,       // the selected shop's entry of /api/shops
  block: 'board',
  report: null,
  live: new Map(),  // alerts received on the stream, by alertKey
  sort: { key: null, dir: 1 },
  charts: [],
  source: null,
};

const $ = (sel) => document.querySelector(sel);

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else if (v !== undefined && v !== null) e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

async function api(path) {
  const res = await fetch(path, { cache: 'no-store' });
  const body = await res.json().catch(() => ({ error: `${res.status} ${res.statusText}` }));
  if (!res.ok) throw new Error(body.error || `${res.status} ${res.statusText}`);
  return body;
}

function setStatus(text, isError = false) {
  const s = $('#status');
  s.textContent = text;
  s.classList.toggle('error', isError);
}

// ---- formatting ----------------------------------------------------------------------

function title(name) {
  const t = TITLES[name];
  return t ? t[0] : name.replace(/_ms$/, '').replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase());
}

function duration(ms) {
  const s = ms / 1000;
  if (s < 1) return `${Math.round(ms)} ms`;
  if (s < 60) return `${s.toFixed(1)} s`;
  const whole = Math.round(s);
  if (whole < 3600) return `${Math.floor(whole / 60)} min ${String(whole % 60).padStart(2, '0')} s`;
  return `${Math.floor(whole / 3600)} h ${String(Math.floor(whole / 60) % 60).padStart(2, '0')} min`;
}

const percent = (v) => (v === null || v === undefined ? '–' : `${(v * 100).toFixed(1)}%`);

function formatValue(name, v) {
  const m = state.meta[name];
  if (v === null || v === undefined) return '–';
  if (m && m.unit === 'ratio') return percent(v);
  if (m && m.unit === 'ms') return duration(v);
  return v.toLocaleString('en-US');
}

// 'ok', 'bad' or '' for a value against its target.
function judge(name, v) {
  const t = targetOf(name);
  if (!t || v === null || v === undefined) return '';
  if (t.min !== undefined) return v >= t.min ? 'ok' : 'bad';
  return v <= t.max ? 'ok' : 'bad';
}

function targetText(name) {
  const t = targetOf(name);
  if (!t) return '';
  return t.min !== undefined ? `target ≥ ${formatValue(name, t.min)}` : `target ≤ ${formatValue(name, t.max)}`;
}

// "YYYY-MM-DD" and "HH:MM:SS" of an epoch-ms time in the shop's zone.
function localTime(ts) {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: state.shop.timezone, hourCycle: 'h23', year: 'numeric', month: '2-digit',
    day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
  }).formatToParts(new Date(ts));
  const p = Object.fromEntries(parts.map((x) => [x.type, x.value]));
  return { date: `${p.year}-${p.month}-${p.day}`, time: `${p.hour}:${p.minute}:${p.second}` };
}

// ---- which figures go where ------------------------------------------------------------

const inScope = (name, scope) => state.meta[name].scopes.includes(scope);

// A scope shows its rates and averages, and the counters that feed none of them (the rates'
// own counters appear beside each rate instead).
function shownFigures(names) {
  const rates = names.filter((n) => state.meta[n].kind !== 'counter');
  const fed = new Set(rates.flatMap((n) => [state.meta[n].num, state.meta[n].num2, state.meta[n].den]));
  return names.filter((n) => state.meta[n].kind !== 'counter' || !fed.has(n));
}

// A rate's counts, e.g. "4 / 5", or "1 − 1 / 4" for a one-minus rate.
function counts(name, figures) {
  const m = state.meta[name];
  if (m.kind === 'counter') return '';
  const num = (figures[m.num] || 0) + (m.num2 ? figures[m.num2] || 0 : 0);
  const den = figures[m.den] || 0;
  if (!den) return 'no data yet';
  if (m.kind === 'avg_ms') return `over ${den.toLocaleString('en-US')}`;
  return `${m.kind === 'one_minus' ? '1 − ' : ''}${num} / ${den}`;
}

function countsTitle(name) {
  const m = state.meta[name];
  if (m.kind === 'counter') return name;
  const num = m.num2 ? `(${m.num} + ${m.num2})` : m.num;
  return m.kind === 'one_minus' ? `1 − ${num} / ${m.den}` : `${num} / ${m.den}`;
}

// ---- rendering -----------------------------------------------------------------------

function renderCards() {
  const block = state.report[state.block];
  const names = shownFigures(state.order.filter((n) => inScope(n, 'board') && n in block));
  $('#cards').replaceChildren(...names.map((name) => {
    const v = block[name];
    const t = TITLES[name];
    return el('div', { class: `card ${judge(name, v)}`, 'data-figure': name, title: countsTitle(name) },
      el('div', { class: 'title' }, title(name), t && t[1] ? el('span', { class: 'muted' }, ` ${t[1]}`) : ''),
      el('div', { class: 'value' }, formatValue(name, v)),
      el('div', { class: 'sub' }, [counts(name, block), targetText(name)].filter(Boolean).join(' · ')));
  }));
}

function renderCharts() {
  const hourly = state.report[state.block].hourly;
  const names = state.hourlyNames.filter((n) => n in hourly);
  const pairs = [];
  for (let i = 0; i < names.length; i += 2) pairs.push(names.slice(i, i + 2));
  if (state.charts.length !== pairs.length) {
    state.charts.forEach((c) => c.destroy());
    $('#charts').replaceChildren(...pairs.map((p) =>
      el('div', { class: 'chart' }, el('canvas', { 'data-series': p.join(' '), role: 'img' }))));
    state.charts = pairs.map((p, i) => new Chart($('#charts').children[i].firstChild, {
      type: 'bar',
      data: { labels: HOURS, datasets: [] },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        plugins: { legend: { position: 'bottom', labels: { boxWidth: 12 } } },
        scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
      },
    }));
  }
  pairs.forEach((p, i) => {
    const chart = state.charts[i];
    chart.data.datasets = p.map((n, k) => ({
      key: n, label: title(n), data: hourly[n], backgroundColor: COLOURS[(2 * i + k) % COLOURS.length],
    }));
    chart.canvas.setAttribute('aria-label', `${p.map(title).join(' and ')} per hour`);
    chart.update();
  });
}

function renderAgents() {
  const agents = state.report.agents;
  const ids = Object.keys(agents);
  const table = $('#agents');
  if (!ids.length) {
    table.replaceChildren(el('tr', {}, el('td', {}, 'No agent figures for these days.')));
    return;
  }
  const first = agents[ids[0]];
  const cols = shownFigures(state.order.filter((n) => inScope(n, 'agents') && n in first));
  const { key, dir } = state.sort;
  const value = (id) => (key ? agents[id][key] : id);
  ids.sort((a, b) => {
    const va = value(a), vb = value(b);
    if (va === vb) return a.localeCompare(b);
    if (va === null) return 1; // no value: last, whichever the direction
    if (vb === null) return -1;
    return (va < vb ? -1 : 1) * dir;
  });
  const sortAttr = (k) => (key === k ? (dir > 0 ? 'ascending' : 'descending') : null);
  const head = el('tr', {}, el('th', { 'data-sort': '', 'aria-sort': sortAttr(null) }, 'Agent'),
    ...cols.map((n) => el('th', { 'data-sort': n, 'aria-sort': sortAttr(n), title: countsTitle(n) }, title(n))));
  const rows = ids.map((id) => el('tr', { 'data-agent': id }, el('td', {}, id),
    ...cols.map((n) => el('td', { 'data-figure': n, class: judge(n, agents[id][n]), title: counts(n, agents[id]) },
      formatValue(n, agents[id][n])))));
  table.replaceChildren(el('thead', {}, head), el('tbody', {}, ...rows));
}

function sortAgents(ev) {
  const th = ev.target.closest('th');
  if (!th) return;
  const k = th.dataset.sort || null;
  state.sort = { key: k, dir: state.sort.key === k ? -state.sort.dir : k ? -1 : 1 };
  renderAgents();
}

function renderIntents() {
  const { by_intent: by, top10_sessions: bySessions, top10_contribution: byContribution } = state.report.intents;
  const row = (name, ...cells) => el('tr', { 'data-intent': name }, el('td', {}, name), ...cells);
  const none = el('tr', {}, el('td', {}, 'No intents for these days.'));
  $('#intents-sessions').replaceChildren(
    el('caption', {}, 'Top 10 by sessions ', el('span', { class: 'muted' }, '咨询量TOP10')),
    el('tr', {}, el('th', {}, 'Intent'), el('th', {}, 'Sessions'), el('th', {}, 'Rated'), el('th', {}, 'Dissatisfied')),
    ...(bySessions.length ? bySessions.map((n) => row(n, el('td', {}, by[n].sessions), el('td', {}, by[n].rated),
      el('td', {}, formatValue('dissatisfied_rate', by[n].dissatisfied_rate)))) : [none]));
  $('#intents-contribution').replaceChildren(
    el('caption', {}, 'Top 10 by dissatisfaction contribution ', el('span', { class: 'muted' }, '不满意贡献率TOP10')),
    el('tr', {}, el('th', {}, 'Intent'), el('th', {}, 'Rated 1–2 ★'), el('th', {}, 'Contribution')),
    ...(byContribution.length ? byContribution.map((n) => {
      const c = by[n].dissatisfaction_contribution;
      return row(n, el('td', {}, by[n].rated_1_2), el('td', { 'data-figure': 'dissatisfaction_contribution' },
        el('span', { class: 'bar', style: `width:${Math.round((c || 0) * 60)}px` }), percent(c)));
    }) : [none.cloneNode(true)]));
}

const alertKey = (a) => [a.type, a.customer_id, a.session_open_ts, a.anchor_ts, a.raised_ts].join('|');

function alertFigure(a) {
  if (a.figure === null) return '';
  if (a.type === 'DISSATISFIED') return `${a.figure} ★`;
  if (a.type === 'SATISFACTION_BELOW_TARGET') return `7-day satisfaction ${(a.figure / 100).toFixed(2)}%`;
  return `waited ${duration(a.figure)}`;
}

// The day's alerts and those received live, newest first.
function renderAlerts() {
  const all = new Map(state.report.alerts.map((a) => [alertKey(a), a]));
  for (const [k, a] of state.live) all.set(k, a);
  const list = [...all.values()].sort((a, b) => b.raised_ts - a.raised_ts);
  $('#alerts').replaceChildren(...(list.length ? list.map((a) => {
    const t = localTime(a.raised_ts);
    const who = [a.customer_id && `customer ${a.customer_id}`, a.agent_id && `agent ${a.agent_id}`,
      alertFigure(a), `day ${a.day}`].filter(Boolean).join(' · ');
    const fresh = a.receivedAt && Date.now() - a.receivedAt < 2000;
    return el('li', { class: fresh ? 'new' : '', 'data-type': a.type },
      el('span', { class: 'time', title: t.date }, `${t.date.slice(5)} ${t.time}`),
      el('span', { class: `type ${a.type}` }, a.type),
      el('span', { class: 'detail' }, who));
  }) : [el('li', { class: 'empty' }, 'No alerts for these days.')]));
}

function render() {
  if (!state.report) return;
  renderCards();
  renderCharts();
  renderAgents();
  renderIntents();
  renderAlerts();
}

// ---- loading -----------------------------------------------------------------------------

function selection() {
  return { shop: $('#shop').value, day: $('#day').value, to: $('#to').value };
}

async function loadReport() {
  const { shop, day, to } = selection();
  if (!shop || !day) return;
  const q = new URLSearchParams({ shop, day });
  if (to) q.set('to', to);
  try {
    state.report = await api(`/api/report?${q}`);
    render();
    const now = localTime(Date.now());
    setStatus(`Updated ${now.time} · times in ${state.shop.timezone}, the shop's zone`);
  } catch (e) {
    setStatus(`Cannot load the figures: ${e.message}`, true);
  }
}

// The live feed: the stream says "ready" once it follows the shop's alerts, and the report
// is (re)loaded then, so no alert falls between the two; after a reconnect too.
// The browser reconnects by itself after a dropped stream, but gives up on an error reply
// (Redis unreachable: 503); then the page tries again every few seconds.
function follow(shop) {
  if (state.source) state.source.close();
  const live = $('#live');
  const source = new EventSource(`/api/alerts/stream?shop=${encodeURIComponent(shop)}`);
  source.addEventListener('ready', () => { live.classList.add('on'); loadReport(); });
  source.onerror = () => {
    live.classList.remove('on');
    if (source.readyState === EventSource.CLOSED) {
      setTimeout(() => { if (state.source === source) follow(shop); }, 5000);
    }
  };
  source.onmessage = (ev) => {
    const a = JSON.parse(ev.data);
    a.receivedAt = Date.now();
    state.live.set(alertKey(a), a);
    if (state.report) renderAlerts();
    loadReport(); // the alert's flush also changed the figures
  };
  state.source = source;
}

function todayOf(zone) {
  const p = Object.fromEntries(new Intl.DateTimeFormat('en-GB', { timeZone: zone, year: 'numeric',
    month: '2-digit', day: '2-digit' }).formatToParts(new Date()).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day}`;
}

function saveUrl() {
  const { shop, day, to } = selection();
  const q = new URLSearchParams({ shop, day });
  if (to) q.set('to', to);
  if (state.block !== 'board') q.set('block', state.block);
  history.replaceState(null, '', `?${q}`);
}

function selectShop() {
  state.shop = state.shops.find((s) => s.id === $('#shop').value);
  document.querySelectorAll('[data-zone]').forEach((e) => { e.textContent = `(${state.shop.timezone})`; });
  if (!$('#day').value) $('#day').value = todayOf(state.shop.timezone);
  saveUrl();
  state.live.clear();
  follow(state.shop.id);
}

function setBlock(block) {
  state.block = block;
  document.querySelectorAll('[data-block]').forEach((b) => b.setAttribute('aria-pressed', String(b.dataset.block === block)));
  saveUrl();
  render();
}

async function start() {
  const params = new URLSearchParams(location.search);
  try {
    const [figures, shops] = await Promise.all([api('/api/figures'), api('/api/shops')]);
    for (const f of figures.figures) state.meta[f.name] = f;
    state.order = figures.figures.map((f) => f.name);
    state.hourlyNames = figures.hourly;
    state.shops = shops.shops;
  } catch (e) {
    setStatus(`Cannot reach the server: ${e.message}`, true);
    return;
  }
  if (!state.shops.length) {
    setStatus('No shop has figures in Redis yet.', true);
    return;
  }
  $('#shop').replaceChildren(...state.shops.map((s) => el('option', { value: s.id }, s.id)));
  if (state.shops.some((s) => s.id === params.get('shop'))) $('#shop').value = params.get('shop');
  $('#day').value = params.get('day') || '';
  $('#to').value = params.get('to') || '';
  state.block = params.get('block') === 'allday' ? 'allday' : 'board';
  setBlock(state.block);
  $('#shop').addEventListener('change', () => { $('#day').value = ''; selectShop(); });
  for (const id of ['#day', '#to']) $(id).addEventListener('change', () => { saveUrl(); loadReport(); });
  document.querySelectorAll('[data-block]').forEach((b) => b.addEventListener('click', () => setBlock(b.dataset.block)));
  $('#agents').addEventListener('click', sortAgents);
  selectShop();
}

start();
