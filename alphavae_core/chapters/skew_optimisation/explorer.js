// explorer.js: chapter 2's explorer, computed in the page. Sliders set q = N(m 1, e^s I_d) against
// p = N(0, I). The left panel draws the exact primal JS^Galpha and equation 18 over alpha, with the
// exact minimiser and equation 16 marked; the right panel the exact dual with its minimiser, and
// equation 16 for reference. The table prints both KLs, equation 16 and the exact minimisers.
// Needs svgplot.js and closed_forms.js (chapter 1's) before it. The Python side,
// alphavae_core.chapters.skew_optimisation.explorer.skew_explorer_html, writes the markup.

// Mean and variance of L = log q(z) - log p(z) under N_alpha, one dimension. The mean is
// d log Z_alpha / d alpha and the variance its second derivative (landscape.py's identities).
function tiltedMoments(mu, lv, alpha) {
  const [m, lvA] = geometricMeanNormal(mu, lv, 0.0, 0.0, alpha);
  const s2 = Math.exp(lvA);
  const v = Math.exp(lv);
  const c = 0.5 * (1.0 - 1.0 / v); // L = c z^2 + b z + const
  const b = mu / v;
  const mean = -0.5 * lv - (s2 + (m - mu) * (m - mu)) / (2.0 * v) + 0.5 * (s2 + m * m);
  const lin = 2.0 * c * m + b;
  return [mean, lin * lin * s2 + 2.0 * c * c * s2 * s2];
}

// d/dalpha of the exact primal, alpha^2 A + (1-alpha)^2 B + log Z_alpha, and of the exact dual,
// (2 alpha - 1) E[L] - log Z_alpha, per dimension (A = KL(p||q), B = KL(q||p)).
function skewDerivative(mu, lv, alpha, dual) {
  const [mean, variance] = tiltedMoments(mu, lv, alpha);
  if (dual) return mean + (2.0 * alpha - 1.0) * variance;
  const A = klNormal(0.0, 0.0, mu, lv);
  const B = klNormal(mu, lv, 0.0, 0.0);
  return 2.0 * alpha * A - 2.0 * (1.0 - alpha) * B + mean;
}

// landscape.minimise_skew: the best of `grid` skews, then `iters` bisections on the sign of the
// derivative in the two neighbouring cells. NaN when the landscape is flat (q = p).
function minimiseSkew(f, df, grid, iters, flatTol) {
  let best = 0;
  let lowest = Infinity;
  let highest = -Infinity;
  const alphas = linspace(0.0, 1.0, grid);
  for (let i = 0; i < grid; i++) {
    const value = f(alphas[i]);
    if (value < lowest) {
      lowest = value;
      best = i;
    }
    if (value > highest) highest = value;
  }
  let lo = alphas[Math.max(best - 1, 0)];
  let hi = alphas[Math.min(best + 1, grid - 1)];
  for (let k = 0; k < iters; k++) {
    const mid = 0.5 * (lo + hi);
    if (df(mid) > 0) hi = mid;
    else lo = mid;
  }
  return highest - lowest <= flatTol ? NaN : 0.5 * (lo + hi);
}

function mountSkewExplorer(root, cfg) {
  const byId = (name) => root.querySelector(`#${cfg.prefix}-${name}`);
  const sliders = { mean: byId('mean'), logvar: byId('logvar'), dim: byId('dim') };
  const names = ['kl-pq', 'kl-qp', 'eq16', 'primal-star', 'primal-gap', 'primal-min', 'dual-star',
    'dual-gap', 'dual-min'];
  const cells = Object.fromEntries(names.map((name) => [name, byId(name)]));
  const primalPlot = new Plot(byId('primal-plot'), { xlabel: 'skew α', ylabel: 'divergence (nats)' });
  const dualPlot = new Plot(byId('dual-plot'), { xlabel: 'skew α', ylabel: 'divergence (nats)' });
  const alphas = linspace(0.0, 1.0, cfg.n_alpha);
  const c = cfg.colours;
  const m = cfg.minimiser;

  function update() {
    const mean = Number(sliders.mean.value);
    const lv = Number(sliders.logvar.value);
    const d = Number(sliders.dim.value);
    for (const [name, el] of Object.entries(sliders)) byId(`${name}-value`).textContent = el.value;

    // isotropic q: every dimension contributes the same, so each divergence is d times one dimension's
    const primal = (a) => d * gjsNormal(mean, lv, a, false);
    const dual = (a) => d * gjsNormal(mean, lv, a, true);
    const A = d * klNormal(0.0, 0.0, mean, lv);
    const B = d * klNormal(mean, lv, 0.0, 0.0);
    const approx = (a) => a * a * A + (1.0 - a) * (1.0 - a) * B;
    const eq16 = B / (A + B);
    const starP = minimiseSkew(primal, (a) => skewDerivative(mean, lv, a, false), m.grid, m.iters, m.flat_tol);
    const starD = minimiseSkew(dual, (a) => skewDerivative(mean, lv, a, true), m.grid, m.iters, m.flat_tol);

    const curves = { primal: alphas.map(primal), approx: alphas.map(approx), dual: alphas.map(dual) };
    const topP = Math.max(...curves.primal, ...curves.approx);
    primalPlot.frame([0.0, 1.0], [0.0, topP > 0 ? 1.08 * topP : 1.0]);
    primalPlot.line(alphas, curves.approx, { colour: c.approx, width: 1.8, dash: '6 4', name: 'approx' });
    primalPlot.line(alphas, curves.primal, { colour: c.primal, width: 2.4, name: 'primal' });
    if (Number.isFinite(eq16)) {
      primalPlot.vline(eq16, { colour: c.approx, width: 1.2, dash: '2 3', name: 'eq16' });
      primalPlot.dot(eq16, approx(eq16), { colour: c.approx, fill: '#fff', name: 'eq16-dot' });
    }
    if (Number.isFinite(starP)) {
      primalPlot.vline(starP, { colour: c.primal, width: 1.2, name: 'primal-star' });
      primalPlot.dot(starP, primal(starP), { colour: c.primal, name: 'primal-star-dot' });
    }
    const topD = Math.max(...curves.dual);
    dualPlot.frame([0.0, 1.0], [0.0, topD > 0 ? 1.08 * topD : 1.0]);
    dualPlot.line(alphas, curves.dual, { colour: c.dual, width: 2.4, name: 'dual' });
    if (Number.isFinite(eq16)) dualPlot.vline(eq16, { colour: c.approx, width: 1.2, dash: '2 3', name: 'eq16' });
    if (Number.isFinite(starD)) {
      dualPlot.vline(starD, { colour: c.dual, width: 1.2, name: 'dual-star' });
      dualPlot.dot(starD, dual(starD), { colour: c.dual, name: 'dual-star-dot' });
    }

    const every = 'every α (q = p)';
    showValue(cells['kl-pq'], A, 4, '');
    showValue(cells['kl-qp'], B, 4, '');
    showValue(cells.eq16, eq16, 4, every);
    showValue(cells['primal-star'], starP, 4, every);
    showValue(cells['primal-gap'], starP - eq16, 4, '—');
    showValue(cells['primal-min'], Number.isFinite(starP) ? primal(starP) : 0.0, 4, '');
    showValue(cells['dual-star'], starD, 4, every);
    showValue(cells['dual-gap'], starD - eq16, 4, '—');
    showValue(cells['dual-min'], Number.isFinite(starD) ? dual(starD) : 0.0, 4, '');
  }

  for (const el of Object.values(sliders)) el.addEventListener('input', update);
  update();
}
