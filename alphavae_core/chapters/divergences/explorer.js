// explorer.js: chapter 1's explorer, computed in the page. Sliders set the skew alpha and the mean
// and log-variance of q = N(mu, e^s) against p = N(0, 1). The left panel draws the densities of p,
// q and N_alpha; the right panel the primal and dual divergences over alpha (the two KLs as
// horizontal lines, the current alpha marked); the table prints the values at the current alpha.
// Needs svgplot.js and closed_forms.js before it. The Python side, alphavae_core.chapters.
// divergences.explorer.alpha_explorer_html, writes the markup and calls mountAlphaExplorer.

function mountAlphaExplorer(root, cfg) {
  const byId = (name) => root.querySelector(`#${cfg.prefix}-${name}`);
  const sliders = { alpha: byId('alpha'), mu: byId('mu'), logvar: byId('logvar') };
  const cells = {};
  for (const name of ['kl-qp', 'kl-pq', 'primal', 'dual', 'n-alpha-mean', 'n-alpha-var']) cells[name] = byId(name);
  const densities = new Plot(byId('densities'), { xlabel: 'latent z', ylabel: 'probability density' });
  const curves = new Plot(byId('curves'), { xlabel: 'skew α', ylabel: 'divergence (nats)' });
  const alphas = linspace(0.0, 1.0, cfg.n_alpha);
  const zs = linspace(cfg.z_range[0], cfg.z_range[1], cfg.n_z);
  const c = cfg.colours;

  function update() {
    const alpha = Number(sliders.alpha.value);
    const mu = Number(sliders.mu.value);
    const lv = Number(sliders.logvar.value);
    for (const [name, el] of Object.entries(sliders)) byId(`${name}-value`).textContent = el.value;

    const [muA, lvA] = geometricMeanNormal(mu, lv, 0.0, 0.0, alpha);
    const peak = Math.max(normalDensity(mu, mu, lv), normalDensity(0.0, 0.0, 0.0));
    densities.frame(cfg.z_range, [0.0, 1.1 * peak]);
    densities.line(zs, zs.map((z) => normalDensity(z, 0.0, 0.0)), { colour: c.p, width: 1.8, name: 'p' });
    densities.line(zs, zs.map((z) => normalDensity(z, mu, lv)), { colour: c.q, width: 1.8, name: 'q' });
    densities.line(zs, zs.map((z) => normalDensity(z, muA, lvA)), { colour: c.n_alpha, width: 2.6, name: 'n_alpha' });

    const primal = alphas.map((a) => gjsNormal(mu, lv, a, false));
    const dual = alphas.map((a) => gjsNormal(mu, lv, a, true));
    const klQP = klNormal(mu, lv, 0.0, 0.0);
    const klPQ = klNormal(0.0, 0.0, mu, lv);
    const top = Math.max(klQP, klPQ, ...primal, ...dual);
    curves.frame([0.0, 1.0], [0.0, top > 0 ? 1.1 * top : 1.0]);
    curves.hline(klQP, { colour: c.kl, width: 1.3, dash: '6 4', name: 'kl-qp' });
    curves.hline(klPQ, { colour: c.fwdkl, width: 1.6, dash: '2 3', name: 'kl-pq' });
    curves.line(alphas, primal, { colour: c.primal, width: 2.4, name: 'primal' });
    curves.line(alphas, dual, { colour: c.dual, width: 2.4, dash: '7 3', name: 'dual' });
    curves.vline(alpha, { colour: '#999', width: 1, name: 'alpha' });
    const here = { primal: gjsNormal(mu, lv, alpha, false), dual: gjsNormal(mu, lv, alpha, true) };
    curves.dot(alpha, here.primal, { colour: c.primal, name: 'primal-here' });
    curves.dot(alpha, here.dual, { colour: c.dual, name: 'dual-here' });

    showValue(cells['kl-qp'], klQP, 4, '');
    showValue(cells['kl-pq'], klPQ, 4, '');
    showValue(cells.primal, here.primal, 4, '');
    showValue(cells.dual, here.dual, 4, '');
    showValue(cells['n-alpha-mean'], muA, 4, '');
    showValue(cells['n-alpha-var'], Math.exp(lvA), 4, '');
    byId('alpha-now').textContent = alpha.toFixed(2);
  }

  for (const el of Object.values(sliders)) el.addEventListener('input', update);
  update();
}
