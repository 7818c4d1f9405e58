// Kernel-free self-checks: each question checks the reader's answer in the page (no kernel, no network).
function parseNumber(text) {
  const cleaned = String(text).trim().replace(/\u2212/g, '-').replace(/\s+/g, '').replace(/,/g, '.');
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(cleaned)) return NaN;
  return Number(cleaned);
}

function mountSelfCheck(root, config) {
  const blocks = root.querySelectorAll('.avx-quiz');
  config.questions.forEach((q, i) => {
    const block = blocks[i];
    if (!block) return;
    const feedback = block.querySelector('.avx-feedback');
    // q.text and q.explain are HTML made by selfcheck.py (escaped, names typeset); the rest is fixed text
    const say = (text, kind) => {
      feedback.innerHTML = text;
      feedback.className = 'avx-feedback' + (kind ? ' avx-' + kind : '');
    };
    const explain = q.explain ? ' ' + q.explain : '';
    block.querySelector('.avx-check').addEventListener('click', () => {
      if (q.kind === 'choice') {
        const picked = block.querySelector('input[type=radio]:checked');
        if (!picked) return say('Pick one of the options first.', '');
        if (Number(picked.value) === q.answer) say('Right: ' + q.text + '.' + explain, 'right');
        else say('Not quite: try again.', 'wrong');
      } else {
        const value = parseNumber(block.querySelector('input.avx-number').value);
        if (!Number.isFinite(value)) return say('Enter a number, e.g. 0.25.', '');
        if (Math.abs(value - q.answer) <= q.tolerance + 1e-12) say('Right: ' + q.text + '.' + explain, 'right');
        else say('Not quite: ' + (value > q.answer ? 'too high' : 'too low') + '. Try again.', 'wrong');
      }
    });
    block.querySelector('.avx-show').addEventListener('click', () => say('Answer: ' + q.text + '.' + explain, 'shown'));
  });
}
