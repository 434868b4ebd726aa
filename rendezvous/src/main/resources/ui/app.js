// The built-in status page: polls /ui/api/status and draws plain SVG, so it needs no library.
'use strict';

const SVG = 'http://www.w3.org/2000/svg';
const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#17becf'];
const DEFAULT_COLOUR = '#999999';
const CANARY_COLOUR = '#111111';
const colours = {};

function colourOf(model) {
  if (model === 'default') return DEFAULT_COLOUR;
  if (!(model in colours)) colours[model] = PALETTE[Object.keys(colours).length % PALETTE.length];
  return colours[model];
}

function el(tag, attrs, parent, text) {
  const e = tag.startsWith('svg:') ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  if (parent) parent.appendChild(e);
  return e;
}

function svg(parent, w, h) {
  return el('svg:svg', {width: w, height: h, viewBox: `0 0 ${w} ${h}`}, parent);
}

function scheduleTable(parent, s) {
  const t = el('table', {}, parent);
  const head = el('tr', {}, t);
  ['tier', 'until (ms)', 'accept'].forEach(h => el('th', {}, head, h));
  s.tiers.forEach((tier, i) => {
    const r = el('tr', {}, t);
    el('td', {}, r, String(i));
    el('td', {}, r, String(tier.until_ms));
    el('td', {}, r, tier.accept.join(', '));
  });
  const r = el('tr', {}, t);
  el('td', {}, r, 'default');
  el('td', {}, r, String(s.deadline_ms));
  el('td', {}, r, `deadline; margin ${s.margin_ms} ms`);
}

function answeredBars(parent, counts) {
  const entries = Object.entries(counts);
  if (entries.length === 0) { el('p', {class: 'empty'}, parent, 'no answers yet'); return; }
  const total = entries.reduce((a, [, n]) => a + n, 0);
  const w = 320, rowH = 18, h = entries.length * rowH + 6;
  const g = svg(parent, w, h);
  entries.forEach(([who, n], i) => {
    const y = 3 + i * rowH;
    el('svg:text', {x: 4, y: y + 12}, g, who);
    el('svg:rect', {x: 90, y: y + 2, height: rowH - 6, width: Math.max(1, (w - 170) * n / total),
      fill: colourOf(who), 'data-answered-by': who}, g);
    el('svg:text', {x: w - 74, y: y + 12}, g, `${n} (${(100 * n / total).toFixed(0)}%)`);
  });
}

function latencyChart(parent, p) {
  const w = 460, h = 200, left = 36, bottom = 18;
  const g = svg(parent, w, h);
  const recent = p.recent;
  const top = Math.max(p.schedule.deadline_ms, ...recent.map(a => a.elapsed_ms)) * 1.1;
  const y = ms => (h - bottom) - (h - bottom - 6) * ms / top;
  const x = i => left + (w - left - 6) * (recent.length <= 1 ? 0.5 : i / (recent.length - 1));
  for (const tier of p.schedule.tiers) {
    el('svg:line', {x1: left, x2: w - 4, y1: y(tier.until_ms), y2: y(tier.until_ms), stroke: '#bbb',
      'stroke-dasharray': '3 3'}, g);
  }
  el('svg:line', {x1: left, x2: w - 4, y1: y(p.schedule.deadline_ms), y2: y(p.schedule.deadline_ms),
    stroke: '#d62728', 'stroke-width': 1.5, class: 'deadline'}, g);
  el('svg:text', {x: w - 80, y: y(p.schedule.deadline_ms) - 3}, g, `deadline ${p.schedule.deadline_ms} ms`);
  [0, top / 2, top].forEach(v => el('svg:text', {x: 2, y: y(v) + 3}, g, v.toFixed(0)));
  el('svg:text', {x: left, y: h - 4}, g, `last ${recent.length} answers, oldest to newest (ms)`);
  recent.forEach((a, i) => el('svg:circle', {cx: x(i), cy: y(a.elapsed_ms), r: 2.2,
    fill: colourOf(a.answered_by)}, g));
}

// Per-bucket counts as fractions of the model's total, over the buckets up to 1.0.
function fractions(m) {
  const bins = m.buckets.filter(b => b.le !== '+Inf');
  const total = m.buckets.reduce((a, b) => a + b.count, 0);
  return {edges: bins.map(b => b.le), values: bins.map(b => (total > 0 ? b.count / total : 0)), total};
}

function distributionChart(parent, model, canary) {
  const box = el('div', {class: 'panel'}, parent);
  el('h3', {}, box, `${model.model} v${model.version} (${model.role})` + (canary && canary !== model
    ? ` vs ${canary.model}` : ''));
  const w = 300, h = 150, bottom = 16, left = 4;
  const g = svg(box, w, h);
  g.setAttribute('data-distribution', model.model);
  const f = fractions(model);
  const c = canary && canary !== model ? fractions(canary) : null;
  const top = Math.max(0.01, ...f.values, ...(c ? c.values : []));
  const bw = (w - left - 4) / f.values.length;
  const y = v => (h - bottom) - (h - bottom - 4) * v / top;
  f.values.forEach((v, i) => el('svg:rect', {x: left + i * bw + 1, y: y(v), width: bw - 2,
    height: (h - bottom) - y(v), fill: colourOf(model.model), 'fill-opacity': 0.75}, g));
  // The model's own outline, so a chart is visibly drawn even where bars are thin.
  const path = f.values.map((v, i) => `${i === 0 ? 'M' : 'L'}${(left + (i + 0.5) * bw).toFixed(1)},${y(v).toFixed(1)}`);
  el('svg:path', {d: path.join(' '), fill: 'none', stroke: colourOf(model.model), 'stroke-width': 1.5,
    class: 'dist', 'data-model': model.model, 'data-count': f.total}, g);
  if (c) {
    const cp = c.values.map((v, i) => `${i === 0 ? 'M' : 'L'}${(left + (i + 0.5) * bw).toFixed(1)},${y(v).toFixed(1)}`);
    el('svg:path', {d: cp.join(' '), fill: 'none', stroke: CANARY_COLOUR, 'stroke-width': 1.5,
      'stroke-dasharray': '4 2', class: 'canary', 'data-model': canary.model}, g);
  }
  ['0', '0.5', '1'].forEach((t, i) => el('svg:text', {x: left + i * (w - left - 14) / 2, y: h - 3}, g, t));
  const legend = el('div', {class: 'legend'}, box);
  el('span', {style: `background:${colourOf(model.model)}`}, legend);
  legend.appendChild(document.createTextNode(`${model.model}: ${f.total} scores`));
  if (c) {
    el('span', {style: `background:${CANARY_COLOUR}`}, legend);
    legend.appendChild(document.createTextNode(`canary ${canary.model}: ${c.total}`));
  }
}

function render(status) {
  const root = document.getElementById('problems');
  root.replaceChildren();
  for (const p of status.problems) {
    const s = el('section', {class: 'problem', 'data-problem': p.problem}, root);
    el('h2', {}, s, `${p.problem} - schedule v${p.schedule.version}, deadline ${p.schedule.deadline_ms} ms`);
    const row = el('div', {class: 'row'}, s);
    const sched = el('div', {class: 'panel'}, row);
    el('h3', {}, sched, 'Schedule in force');
    scheduleTable(sched, p.schedule);
    const who = el('div', {class: 'panel'}, row);
    el('h3', {}, who, `Who answered (last ${p.recent.length})`);
    answeredBars(who, p.answered_by);
    const lat = el('div', {class: 'panel'}, row);
    const l = p.latency_ms;
    el('h3', {}, lat, 'Latency against the deadline' + (l.p50 !== undefined
      ? ` - p50 ${l.p50} ms, p99 ${l.p99} ms, max ${l.max} ms` : ''));
    latencyChart(lat, p);
    el('h3', {}, s, 'Score distributions (bars: model; dashed: canary)');
    const dists = el('div', {class: 'dists'}, s);
    const canary = p.models.find(m => m.role === 'canary');
    if (p.models.length === 0) el('p', {class: 'empty'}, dists, 'no scores yet');
    p.models.forEach(m => distributionChart(dists, m, canary));
  }
  document.getElementById('updated').textContent =
    'updated ' + new Date(status.generated_at_ms).toLocaleTimeString();
  document.body.setAttribute('data-rendered', 'true');
}

async function refresh() {
  try {
    const r = await fetch('/ui/api/status', {cache: 'no-store'});
    render(await r.json());
  } catch (e) {
    document.getElementById('updated').textContent = 'cannot reach the proxy: ' + e;
  }
}

refresh();
setInterval(refresh, 2000);
