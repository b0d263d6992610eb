// sandwatch receiver UI: the timeline chart (events per minute by rule over the last
// 30 minutes, inline SVG). Loaded before app.js, whose helpers ($, el, getJson, filters,
// ruleColor, fmtTime) it calls. Rule names come from events: text only via textContent.

const SVGNS = 'http://www.w3.org/2000/svg';
function svg(tag, attrs, text) {
  const e = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = String(text);
  return e;
}

async function loadTimeline() {
  const f = filters();
  delete f.since;
  let j;
  try { j = await getJson('/api/timeline', { ...f, since: '30m', bucket: '60s' }); } catch (e) { return; }
  const W = 720, H = 210, L = 34, B = 22, T = 8;
  const now = Math.floor(Date.now() / 60000) * 60000;
  const start = now - 29 * 60000;
  const buckets = new Map(j.buckets.map((b) => [new Date(b.t).getTime(), b.counts]));
  let max = 1;
  for (const c of buckets.values()) max = Math.max(max, Object.values(c).reduce((a, b) => a + b, 0));
  const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'none', role: 'img', 'aria-label': 'events per minute by rule' });
  const plotW = W - L - 4, plotH = H - B - T, bw = plotW / 30;
  for (const frac of [0, 0.5, 1]) {
    const y = T + plotH * (1 - frac);
    root.append(svg('line', { x1: L, x2: W - 4, y1: y, y2: y, class: 'axis' }));
    root.append(svg('text', { x: L - 6, y: y + 3, 'text-anchor': 'end' }, Math.round(max * frac)));
  }
  const rules = new Set();
  for (let i = 0; i < 30; i++) {
    const t = start + i * 60000;
    const counts = buckets.get(t) || {};
    let y = T + plotH;
    for (const [rule, n] of Object.entries(counts).sort()) {
      rules.add(rule);
      const h = (n / max) * plotH;
      y -= h;
      const r = svg('rect', { x: L + i * bw + 1, y, width: Math.max(1, bw - 2), height: h, fill: ruleColor(rule), rx: 1.5 });
      r.append(svg('title', {}, `${rule}: ${n} at ${fmtTime(new Date(t).toISOString()).slice(0, 5)}`));
      root.append(r);
    }
    if (i % 5 === 0 || i === 29) {
      root.append(svg('text', { x: L + i * bw + bw / 2, y: H - 6, 'text-anchor': 'middle' },
        fmtTime(new Date(t).toISOString()).slice(0, 5)));
    }
  }
  $('timeline').replaceChildren(root);
  $('legend').replaceChildren(...[...rules].sort().map((r) => {
    const s = el('span', { text: r });
    const sw = el('span', { cls: 'sw' });
    sw.style.background = ruleColor(r);
    s.prepend(sw);
    return s;
  }));
  if (!rules.size) $('legend').append(el('span', { cls: 'hint', text: 'no events in the last 30 minutes' }));
}
