// sandwatch receiver UI. Every value shown comes from attacker-controlled events, so
// text is only ever set with textContent / setAttribute, never parsed as HTML.
'use strict';

const PRIORITIES = ['Emergency', 'Alert', 'Critical', 'Error', 'Warning', 'Notice', 'Informational', 'Debug'];
const PAGE_SIZE = 50;
const PALETTE = ['#00aec7', '#e53935', '#8e24aa', '#43a047', '#fdd835', '#1e88e5', '#6d4c41',
  '#f06292', '#00897b', '#ff7043', '#5e35b1', '#c0ca33', '#546e7a', '#ffb300'];

const token = new URLSearchParams(location.hash.slice(1)).get('token');
const state = { page: 1, total: 0, capped: false, rows: [], ruleColors: new Map(), knownRules: new Set() };

function $(id) { return document.getElementById(id); }

function el(tag, opts = {}, children = []) {
  const e = document.createElement(tag);
  if (opts.cls) e.className = opts.cls;
  if (opts.text !== undefined && opts.text !== null) e.textContent = String(opts.text);
  if (opts.title) e.title = String(opts.title);
  for (const c of children) if (c) e.appendChild(c);
  return e;
}

function api(path, params) {
  const u = new URL(path, location.href);
  if (params) for (const [k, v] of Object.entries(params)) if (v) u.searchParams.set(k, v);
  if (token) u.searchParams.set('token', token);
  return u.pathname + u.search;
}

async function getJson(path, params) {
  const r = await fetch(api(path, params), { headers: { Accept: 'application/json' } });
  if (!r.ok) throw new Error(path + ': HTTP ' + r.status);
  return r.json();
}

function filters() {
  const f = {};
  for (const name of ['rule', 'priority', 'source', 'pod', 'sensor', 'since', 'filter']) {
    const v = document.querySelector('#filters [name="' + name + '"]').value.trim();
    if (v) f[name] = v;
  }
  return f;
}

// A rule keeps its colour across reloads: the palette slot comes from a hash of its name,
// moving on to the next free slot when two rules on screen collide.
function ruleColor(rule) {
  if (!state.ruleColors.has(rule)) {
    let h = 0;
    for (const ch of rule) h = (h * 31 + ch.codePointAt(0)) >>> 0;
    const used = new Set(state.ruleColors.values());
    let slot = h % PALETTE.length;
    for (let i = 0; i < PALETTE.length && used.has(PALETTE[slot]); i++) slot = (slot + 1) % PALETTE.length;
    state.ruleColors.set(rule, PALETTE[slot]);
  }
  return state.ruleColors.get(rule);
}

function prioBadge(p) {
  const name = PRIORITIES.includes(p) ? p : 'Debug';
  return el('span', { cls: 'prio prio-' + name.toLowerCase(), text: p });
}

function fmtTime(iso) {
  const d = new Date(iso);
  if (isNaN(d)) return iso;
  const pad = (n, w = 2) => String(n).padStart(w, '0');
  return pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds()) + '.' +
    pad(d.getMilliseconds(), 3);
}

function fmtAge(seconds) {
  if (seconds === null || seconds === undefined) return 'never';
  if (seconds < 1) return 'just now';
  if (seconds < 90) return Math.round(seconds) + ' s ago';
  if (seconds < 5400) return Math.round(seconds / 60) + ' min ago';
  return Math.round(seconds / 3600) + ' h ago';
}

function cmdline(p) {
  if (!p) return '';
  return (p.cmdline && p.cmdline.length ? p.cmdline.join(' ') : p.name) || '';
}

// ---- events table ----------------------------------------------------------

function eventRow(ev, fresh) {
  const tr = el('tr');
  if (fresh) tr.className = 'fresh';
  const k8s = ev.k8s || {};
  const src = el('span', { cls: 'tag' + (ev.source === 'falco' ? ' src-falco' : ''), text: ev.source });
  tr.append(
    el('td', { cls: 'time', text: fmtTime(ev.time), title: ev.time }),
    el('td', {}, [prioBadge(ev.priority)]),
    el('td', { cls: 'rule', text: ev.rule }),
    el('td', {}, [src]),
    el('td', { cls: 'nowrap', text: k8s.pod || ev.hostname || '', title: k8s.namespace ? 'namespace ' + k8s.namespace : '' }),
    el('td', { cls: 'nowrap', text: (ev.sensor && ev.sensor.id) || '' }),
    el('td', { cls: 'proc', text: cmdline(ev.process), title: cmdline(ev.process) }),
    el('td', { cls: 'output', text: ev.output, title: ev.output }));
  tr.addEventListener('click', () => showDetail(ev));
  return tr;
}

function renderEvents() {
  const body = document.querySelector('#events tbody');
  body.replaceChildren(...state.rows.map((r) => eventRow(r.ev, r.fresh)));
  state.rows.forEach((r) => { r.fresh = false; });
  $('events-empty').hidden = state.rows.length > 0;
  const first = (state.page - 1) * PAGE_SIZE + 1;
  // A text search counts its matches up to a bound (statistics.all_capped): "10,000+".
  const total = state.total.toLocaleString() + (state.capped ? '+' : '');
  $('showing').textContent = state.total ? `showing ${first}–${first + state.rows.length - 1} of ${total}` : '';
  $('page').textContent = 'page ' + state.page;
  $('prev').disabled = state.page <= 1;
  $('next').disabled = state.capped ? state.rows.length < PAGE_SIZE : state.page * PAGE_SIZE >= state.total;
  $('stat-events').textContent = total;
  const bad = state.rows.filter((r) => PRIORITIES.indexOf(r.ev.priority) <= 2).length;
  $('stat-critical').textContent = bad;
  $('stat-critical').parentElement.classList.toggle('bad', bad > 0);
}

async function loadEvents() {
  try {
    const j = await getJson('/api/events', { ...filters(), page: String(state.page), limit: String(PAGE_SIZE) });
    state.total = j.statistics.all;
    state.capped = j.statistics.all_capped === true;
    state.rows = j.results.map((ev) => ({ ev, fresh: false }));
    renderEvents();
  } catch (e) { showBanner('Cannot load events: ' + e.message); }
}

function matches(ev, f) {
  if (f.rule && f.rule !== ev.rule) return false;
  if (f.priority && f.priority !== ev.priority) return false;
  if (f.source && f.source !== ev.source) return false;
  if (f.pod && f.pod !== (ev.k8s || {}).pod) return false;
  if (f.sensor && f.sensor !== (ev.sensor || {}).id) return false;
  if (f.filter && !JSON.stringify(ev).toLowerCase().includes(f.filter.toLowerCase())) return false;
  return true;
}

// ---- detail drawer -----------------------------------------------------------

function kv(pairs) {
  const dl = el('dl', { cls: 'kv' });
  for (const [k, v, mono] of pairs) {
    if (v === undefined || v === null || v === '') continue;
    dl.append(el('dt', { text: k }), el('dd', { cls: mono ? 'mono' : '', text: v }));
  }
  return dl;
}

function section(title, content) {
  const s = el('section');
  s.append(el('h3', { text: title }), content);
  return s;
}

function showDetail(ev) {
  $('d-prio').replaceWith(Object.assign(prioBadge(ev.priority), { id: 'd-prio' }));
  $('d-rule').textContent = ev.rule;
  const body = $('d-body');
  body.replaceChildren();
  const k8s = ev.k8s || {};
  const s = ev.sensor || {};
  body.append(section('Event', kv([['time', ev.time], ['output', ev.output], ['source', ev.source],
    ['pod', k8s.pod], ['namespace', k8s.namespace], ['hostname', ev.hostname],
    ['sensor', s.id ? `${s.id} (${s.mode || '?'}, ${s.capture || '?'})` : ''], ['seq', ev.seq || ''],
    ['detection', ev.detection ? `${ev.detection.method}${ev.detection.lag_ms != null ? ', ' + ev.detection.lag_ms.toFixed(1) + ' ms after exec' : ''}` : ''],
    ['id', ev.id, true]])));
  if (ev.tags && ev.tags.length) {
    body.append(section('Tags', el('div', {}, ev.tags.map((t) => el('span', { cls: 'tag', text: t })))));
  }
  const p = ev.process;
  if (p) {
    body.append(section('Process', kv([['name', p.name], ['pid', p.pid || ''], ['ppid', p.ppid || ''],
      ['exe', p.exe, true], ['cmdline', cmdline(p), true], ['cwd', p.cwd, true],
      ['uid', p.uid !== undefined ? String(p.uid) : '']])));
  }
  const chain = [];
  if (p) chain.push(p);
  if (ev.parent) chain.push(ev.parent);
  for (const a of ev.ancestors || []) chain.push(a);
  if (chain.length > 1) {
    const ol = el('ul', { cls: 'chain' });
    chain.forEach((c, i) => {
      const label = (i === 0 ? '' : '↑ ') + (c.name || '?') + (c.pid ? ` (pid ${c.pid})` : '');
      const li = el('li', { text: label });
      const cl = c.cmdline && c.cmdline.length ? c.cmdline.join(' ') : '';
      if (cl) li.append(el('div', { cls: 'mono', text: cl }));
      ol.append(li);
    });
    body.append(section('Parent chain', ol));
  }
  if (ev.file) body.append(section('File', kv([['path', ev.file.path, true]])));
  if (ev.connection) {
    body.append(section('Connection', kv([['proto', ev.connection.proto],
      ['local', ev.connection.local, true], ['remote', ev.connection.remote, true]])));
  }
  if (ev.fields && Object.keys(ev.fields).length) {
    body.append(section(ev.source === 'falco' ? 'Falco output fields' : 'Fields',
      kv(Object.entries(ev.fields).map(([k, v]) => [k, v, true]))));
  }
  body.append(section('Raw JSON', el('pre', { cls: 'raw', text: JSON.stringify(ev, null, 2) })));
  $('detail').hidden = false;
}

// ---- sensors -----------------------------------------------------------------

async function loadSensors() {
  try {
    const j = await getJson('/api/sensors');
    const body = document.querySelector('#sensors tbody');
    let alive = 0, gaps = 0;
    const rows = [];
    for (const s of j.sensors) {
      if (s.status === 'alive') alive++;
      gaps += s.seq_gaps;
      const cls = s.status === 'silent' ? 'silent' : '';
      const tr = el('tr', { cls });
      const idCell = el('td', {}, [el('div', { cls: 'mono', text: s.id })]);
      const where = [s.k8s.namespace, s.k8s.pod].filter(Boolean).join('/') || s.hostname;
      if (where) idCell.append(el('div', { cls: 'hint', text: where }));
      tr.append(idCell,
        el('td', {}, [el('span', { cls: 'status status-' + s.status, text: s.status })]),
        el('td', { text: s.mode + ' · ' + s.capture }),
        el('td', { cls: 'nowrap', text: fmtAge(s.last_heartbeat_age_s), title: s.last_heartbeat || '' }),
        el('td', { cls: 'num', text: s.events.toLocaleString() }),
        el('td', { cls: 'num' + (s.seq_gaps ? ' gap' : ''), text: s.seq_gaps }),
        el('td', { cls: 'num' + (s.refused ? ' gap' : ''), text: s.refused || 0, title: s.last_refused || '' }));
      rows.push(tr);
      if (s.warnings && s.warnings.length) {
        const w = el('td', { cls: 'warn' });
        w.colSpan = 7;
        w.append(...s.warnings.map((t) => el('span', { cls: 'warn-item', text: '⚠ ' + t })));
        rows.push(el('tr', { cls: 'warn-row ' + cls }, [w]));
      }
      const opt = el('option');
      opt.value = s.id;
      rows.opts = (rows.opts || []).concat(opt);
    }
    // Refused requests for ids no sensor reported under: someone without a credential tried.
    for (const u of j.refused_unknown || []) {
      rows.push(el('tr', { cls: 'silent' }, [
        el('td', {}, [el('div', { cls: 'mono', text: u.id }), el('div', { cls: 'hint', text: 'never reported' })]),
        el('td', {}, [el('span', { cls: 'status status-silent', text: 'refused' })]),
        el('td', { text: '' }), el('td', { cls: 'nowrap', text: '', title: u.last_refused || '' }),
        el('td', { cls: 'num', text: 0 }), el('td', { cls: 'num', text: 0 }),
        el('td', { cls: 'num gap', text: u.refused })]));
    }
    body.replaceChildren(...rows);
    $('sensor-ids').replaceChildren(...(rows.opts || []));
    $('sensors-empty').hidden = j.sensors.length > 0;
    $('stat-sensors').textContent = `${alive} / ${j.sensors.length}`;
    $('stat-sensors').parentElement.classList.toggle('bad', alive < j.sensors.length);
    $('stat-gaps').textContent = gaps;
    $('stat-gaps').parentElement.classList.toggle('bad', gaps > 0);
  } catch (e) { showBanner('Cannot load sensors: ' + e.message); }
}

// ---- facets (filter choices) -----------------------------------------------------

async function loadFacets() {
  try {
    const j = await getJson('/api/facets');
    const sel = $('f-rule');
    const current = sel.value;
    for (const r of j.rules) addRuleOption(r);
    sel.value = current;
    $('pods').replaceChildren(...j.pods.map((p) => { const o = el('option'); o.value = p; return o; }));
  } catch (e) { /* filters still work as free text */ }
}

function addRuleOption(rule) {
  if (state.knownRules.has(rule)) return;
  state.knownRules.add(rule);
  const o = el('option', { text: rule });
  o.value = rule;
  $('f-rule').append(o);
}

// ---- live stream -------------------------------------------------------------

let timelineTimer = null;
function scheduleTimeline() {
  if (timelineTimer) return;
  timelineTimer = setTimeout(() => { timelineTimer = null; loadTimeline(); }, 1500);
}

function connectStream() {
  const es = new EventSource(api('/api/stream'));
  const live = $('live');
  es.onopen = () => { live.textContent = 'live'; live.className = 'pill pill-on'; };
  es.onerror = () => { live.textContent = 'reconnecting…'; live.className = 'pill pill-off'; };
  es.onmessage = (m) => {
    let ev;
    try { ev = JSON.parse(m.data); } catch (e) { return; }
    addRuleOption(ev.rule);
    scheduleTimeline();
    if (ev.rule === 'sensor_silent') loadSensors();
    if (state.page !== 1 || !matches(ev, filters())) return;
    state.total += 1;
    state.rows.unshift({ ev, fresh: true });
    if (state.rows.length > PAGE_SIZE) state.rows.pop();
    renderEvents();
  };
  es.addEventListener('dropped', (m) => {
    let n = 0;
    try { n = JSON.parse(m.data).dropped; } catch (e) { /* ignore */ }
    showBanner(`The live view skipped ${n} events (too many at once). Showing the stored list.`);
    loadEvents();
  });
}

function showBanner(text) {
  const b = $('banner');
  b.textContent = text;
  b.hidden = false;
  clearTimeout(showBanner.t);
  showBanner.t = setTimeout(() => { b.hidden = true; }, 8000);
}

// ---- wiring -------------------------------------------------------------------

function syncUrl() {
  const q = new URLSearchParams(filters());
  history.replaceState(null, '', (q.toString() ? '?' + q : location.pathname) + location.hash);
}

function applyFilters() {
  state.page = 1;
  syncUrl();
  loadEvents();
  loadTimeline();
}

function init() {
  const q = new URLSearchParams(location.search);
  for (const [k, v] of q) {
    const input = document.querySelector('#filters [name="' + k + '"]');
    if (!input) continue;
    if (input.tagName === 'SELECT' && k === 'rule') addRuleOption(v);
    input.value = v;
  }
  const form = $('filters');
  form.addEventListener('change', applyFilters);
  form.addEventListener('submit', (e) => { e.preventDefault(); applyFilters(); });
  let typing = null;
  $('f-filter').addEventListener('input', () => { clearTimeout(typing); typing = setTimeout(applyFilters, 350); });
  form.addEventListener('reset', () => setTimeout(applyFilters, 0));
  $('prev').addEventListener('click', () => { if (state.page > 1) { state.page--; loadEvents(); } });
  $('next').addEventListener('click', () => { state.page++; loadEvents(); });
  $('d-close').addEventListener('click', () => { $('detail').hidden = true; });
  document.addEventListener('keydown', (e) => { if (e.key === 'Escape') $('detail').hidden = true; });
  loadFacets();
  loadEvents();
  loadSensors();
  loadTimeline();
  connectStream();
  setInterval(loadSensors, 5000);
  setInterval(loadTimeline, 15000);
}

document.addEventListener('DOMContentLoaded', init);
