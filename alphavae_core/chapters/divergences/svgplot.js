// svgplot.js: a small line-plot drawer in SVG (no library, nothing fetched), shared by the book's
// kernel-free explorers. A Plot owns one <svg>; every redraw clears it and draws axes, ticks, axis
// labels and the series it is given. Coordinates are written with two decimals, so the same data
// give the same markup.

const SVGNS = 'http://www.w3.org/2000/svg';

function svgEl(tag, attrs, parent) {
  const el = document.createElementNS(SVGNS, tag);
  for (const [key, value] of Object.entries(attrs || {})) el.setAttribute(key, String(value));
  if (parent) parent.appendChild(el);
  return el;
}

// About `count` round tick values covering [lo, hi], and the step between them.
function niceTicks(lo, hi, count) {
  const span = hi - lo;
  if (!(span > 0)) return { ticks: [lo], step: 1 };
  const raw = span / count;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const norm = raw / mag;
  const step = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
  const ticks = [];
  for (let k = Math.ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k++) ticks.push(k * step);
  return { ticks, step };
}

// The labels of one axis' ticks, each at most about six characters: fixed-point while every label
// is that short ("0.25", "1500"), else all of them as a mantissa and a power of ten ("5e5", "1e6",
// "1.5e6"), with the digits the step between ticks needs. "1500000" would overflow the margin.
function tickTexts(ticks, step) {
  const values = ticks.map((t) => (Math.abs(t) < step * 1e-6 ? 0 : t));
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  let texts = values.map((v) => v.toFixed(decimals));
  if (texts.some((t) => t.replace('-', '').length > 6)) {
    texts = values.map((v) => {
      if (v === 0) return '0';
      const exponent = Math.floor(Math.log10(Math.abs(v)) + 1e-9);
      const digits = Math.max(0, Math.min(6, exponent - Math.floor(Math.log10(step) + 1e-9)));
      let mantissa = (v / Math.pow(10, exponent)).toFixed(digits);
      if (mantissa.includes('.')) mantissa = mantissa.replace(/0+$/, '').replace(/\.$/, '');
      return `${mantissa}e${exponent}`;
    });
  }
  return texts.map((t) => t.replace(/-/g, '\u2212'));
}

// Width of the widest label in SVG units: measured where the page lays the SVG out, otherwise
// estimated from the character count (about 0.6 em a character).
function labelWidth(svg, texts) {
  const probe = svgEl('text', { x: 0, y: -100, visibility: 'hidden' }, svg);
  let widest = 0;
  for (const text of texts) {
    probe.textContent = text;
    let width = 0;
    try {
      width = probe.getComputedTextLength();
    } catch (e) {
      width = 0;
    }
    widest = Math.max(widest, width > 0 ? width : 0.6 * 14.5 * text.length);
  }
  svg.removeChild(probe);
  return widest;
}

class Plot {
  // options: width, height (SVG user units), xlabel, ylabel
  constructor(svg, options) {
    this.svg = svg;
    this.width = options.width || 420;
    this.height = options.height || 270;
    // top and right leave room for half a tick label; left grows with the y tick labels (frame)
    this.margin = { top: 12, right: 16, bottom: 46, left: 60 };
    this.xlabel = options.xlabel || '';
    this.ylabel = options.ylabel || '';
    svg.setAttribute('viewBox', `0 0 ${this.width} ${this.height}`);
    svg.setAttribute('role', 'img');
  }

  // Clear and draw the frame for the data ranges [x0, x1] x [y0, y1].
  frame(xlim, ylim) {
    const svg = this.svg;
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    this.xlim = xlim;
    this.ylim = ylim;
    const yt = niceTicks(ylim[0], ylim[1], 5);
    const yTexts = tickTexts(yt.ticks, yt.step);
    // the y tick labels end 6 units left of the axis; the rotated axis label needs 24 more
    this.margin.left = Math.max(60, Math.ceil(labelWidth(svg, yTexts)) + 6 + 26);
    const m = this.margin;
    const right = this.width - m.right;
    const bottom = this.height - m.bottom;
    const clipId = `${svg.id}-clip`;
    const defs = svgEl('defs', {}, svg);
    const clip = svgEl('clipPath', { id: clipId }, defs);
    svgEl('rect', { x: m.left, y: m.top, width: right - m.left, height: bottom - m.top }, clip);
    const grid = svgEl('g', { class: 'avx-grid' }, svg);
    const labels = svgEl('g', {}, svg);
    const xt = niceTicks(xlim[0], xlim[1], 5);
    const xTexts = tickTexts(xt.ticks, xt.step);
    xt.ticks.forEach((t, i) => {
      const x = this.x(t).toFixed(2);
      svgEl('line', { x1: x, x2: x, y1: m.top, y2: bottom }, grid);
      svgEl('text', { x, y: bottom + 18, 'text-anchor': 'middle' }, labels).textContent = xTexts[i];
    });
    yt.ticks.forEach((t, i) => {
      const y = this.y(t).toFixed(2);
      svgEl('line', { x1: m.left, x2: right, y1: y, y2: y }, grid);
      svgEl('text', { x: m.left - 6, y, 'text-anchor': 'end', 'dominant-baseline': 'middle' }, labels)
        .textContent = yTexts[i];
    });
    const axes = svgEl('g', { class: 'avx-axis', fill: 'none' }, svg);
    svgEl('path', { d: `M${m.left},${m.top}V${bottom}H${right}` }, axes);
    svgEl('text', { x: (m.left + right) / 2, y: this.height - 6, 'text-anchor': 'middle' }, labels)
      .textContent = this.xlabel;
    const cy = (m.top + bottom) / 2;
    svgEl('text', { x: 14, y: cy, 'text-anchor': 'middle', transform: `rotate(-90 14 ${cy})` }, labels)
      .textContent = this.ylabel;
    this.layer = svgEl('g', { 'clip-path': `url(#${clipId})` }, svg);
  }

  x(value) {
    const m = this.margin;
    const [a, b] = this.xlim;
    return m.left + ((value - a) / (b - a)) * (this.width - m.left - m.right);
  }

  y(value) {
    const m = this.margin;
    const [a, b] = this.ylim;
    return this.height - m.bottom - ((value - a) / (b - a)) * (this.height - m.top - m.bottom);
  }

  // A polyline through (xs[i], ys[i]); style: colour, width, dash ('4 3'), name (a data attribute).
  line(xs, ys, style) {
    const parts = [];
    for (let i = 0; i < xs.length; i++) {
      if (!Number.isFinite(ys[i])) continue;
      parts.push(`${parts.length ? 'L' : 'M'}${this.x(xs[i]).toFixed(2)},${this.y(ys[i]).toFixed(2)}`);
    }
    const attrs = { d: parts.join(''), fill: 'none', stroke: style.colour, 'stroke-width': style.width || 2 };
    if (style.dash) attrs['stroke-dasharray'] = style.dash;
    if (style.name) attrs['data-series'] = style.name;
    return svgEl('path', attrs, this.layer);
  }

  vline(value, style) {
    return this.line([value, value], [this.ylim[0], this.ylim[1]], style);
  }

  hline(value, style) {
    return this.line([this.xlim[0], this.xlim[1]], [value, value], style);
  }

  dot(x, y, style) {
    if (!Number.isFinite(x) || !Number.isFinite(y)) return null;
    const attrs = { cx: this.x(x).toFixed(2), cy: this.y(y).toFixed(2), r: style.r || 4,
      fill: style.fill || style.colour, stroke: style.colour, 'stroke-width': 1.5 };
    if (style.name) attrs['data-series'] = style.name;
    return svgEl('circle', attrs, this.layer);
  }
}

// Print a quantity: full float64 in data-value (for tests), rounded text for the reader.
function showValue(cell, value, digits, missing) {
  cell.dataset.value = String(value);
  cell.textContent = Number.isFinite(value) ? value.toFixed(digits).replace('-', '\u2212') : missing;
}

function linspace(lo, hi, n) {
  const out = new Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + ((hi - lo) * i) / (n - 1);
  return out;
}
