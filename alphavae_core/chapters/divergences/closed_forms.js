// closed_forms.js: the closed forms of alphavae_core/divergences.py, a second time, in JavaScript,
// for one latent dimension (a diagonal Gaussian's divergences are sums of these). Same convention
// (N_alpha ∝ q^alpha p^(1-alpha); primal (1-alpha) KL(q||N_alpha) + alpha KL(p||N_alpha); dual
// (1-alpha) KL(N_alpha||q) + alpha KL(N_alpha||p)) and the same float64 operations, in the same
// order, as the Python; tests/test_sliders.py checks them against it in a browser.

// KL(N(mu1, e^lv1) || N(mu2, e^lv2)), equation 1 (divergences._kl_normal).
function klNormal(mu1, lv1, mu2, lv2) {
  const varRatio = Math.exp(lv1 - lv2);
  const d = mu1 - mu2;
  const mahalanobis = d * d * Math.exp(-lv2);
  return 0.5 * (varRatio + mahalanobis - 1.0 - (lv1 - lv2));
}

// Mean and log-variance of N_alpha ∝ q^alpha p^(1-alpha), equations 9-10 (geometric_mean_normal).
function geometricMeanNormal(muQ, lvQ, muP, lvP, alpha) {
  const wq = alpha * Math.exp(-lvQ);
  const wp = (1.0 - alpha) * Math.exp(-lvP);
  const precision = wq + wp;
  return [(wq * muQ + wp * muP) / precision, -Math.log(precision)];
}

// JS^Galpha (dual = false, equations 5-6) or JS_*^Galpha (dual = true, 7-8) between q = N(mu, e^lv)
// and p = N(0, 1) (gjs_normal).
function gjsNormal(mu, lv, alpha, dual) {
  const [muA, lvA] = geometricMeanNormal(mu, lv, 0.0, 0.0, alpha);
  let toQ, toP;
  if (dual) {
    toQ = klNormal(muA, lvA, mu, lv);
    toP = klNormal(muA, lvA, 0.0, 0.0);
  } else {
    toQ = klNormal(mu, lv, muA, lvA);
    toP = klNormal(0.0, 0.0, muA, lvA);
  }
  return (1.0 - alpha) * toQ + alpha * toP;
}

// Density of N(mu, e^lv) at z.
function normalDensity(z, mu, lv) {
  const variance = Math.exp(lv);
  return Math.exp((-0.5 * (z - mu) * (z - mu)) / variance) / Math.sqrt(2.0 * Math.PI * variance);
}
