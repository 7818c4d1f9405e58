/* Readable search results, offline.

   Sphinx's search page shows, under each result, a summary cut from the page's text. That text is
   the page before MathJax runs, so maths read as TeX ("\(q_\phi(z\mid x)\)"), and the book theme's
   print-only table of contents came first in some summaries. This script, loaded on search.html
   only (_ext/search_snippets.py), wraps Search.htmlToText: each math element becomes plain Unicode
   text ("q_φ(z|x)") and the print-only blocks are dropped before the summary is cut. It lives in
   _ext/static, not _static, because Jupyter Book loads every script of _static on every page. */
(() => {
  "use strict";

  const SYMBOLS = {
    alpha: "α", beta: "β", gamma: "γ", delta: "δ", epsilon: "ϵ", varepsilon: "ε", zeta: "ζ",
    eta: "η", theta: "θ", vartheta: "ϑ", iota: "ι", kappa: "κ", lambda: "λ", mu: "μ", nu: "ν",
    xi: "ξ", pi: "π", rho: "ρ", sigma: "σ", tau: "τ", upsilon: "υ", phi: "ϕ", varphi: "φ",
    chi: "χ", psi: "ψ", omega: "ω", Gamma: "Γ", Delta: "Δ", Theta: "Θ", Lambda: "Λ", Xi: "Ξ",
    Pi: "Π", Sigma: "Σ", Phi: "Φ", Psi: "Ψ", Omega: "Ω",
    le: "≤", leq: "≤", ge: "≥", geq: "≥", ne: "≠", neq: "≠", approx: "≈", propto: "∝", sim: "∼",
    equiv: "≡", ll: "≪", gg: "≫", in: "∈", notin: "∉", subset: "⊂", cup: "∪", cap: "∩",
    to: "→", rightarrow: "→", leftarrow: "←", Rightarrow: "⇒", iff: "⇔", mapsto: "↦",
    infty: "∞", partial: "∂", nabla: "∇", sum: "Σ", prod: "∏", int: "∫", forall: "∀",
    exists: "∃", emptyset: "∅", pm: "±", mp: "∓", times: "×", cdot: "·", odot: "⊙", circ: "∘",
    ast: "*", star: "⋆", top: "⊤", dagger: "†", ell: "ℓ", mid: "|", vert: "|", lvert: "|",
    rvert: "|", Vert: "‖", lVert: "‖", rVert: "‖", "|": "‖", langle: "⟨", rangle: "⟩",
    ldots: "…", dots: "…", cdots: "⋯", "{": "{", "}": "}", "%": "%", "&": "&", "#": "#",
    "_": "_", ",": " ", ":": " ", ";": " ", "!": "", " ": " ", quad: "  ", qquad: "  ",
  };
  // The book's macros (_config.yml, mathjax3_config) and operators written upright.
  const WORDS = { KL: "KL", JSG: "JS^Gα", JSGd: "JS*^Gα" };
  const DROP = new Set(["left", "right", "big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl",
    "Bigr", "displaystyle", "textstyle", "nonumber", "notag", "limits", "nolimits"]);
  const TEXT = new Set(["text", "mathrm", "operatorname", "mathbf", "boldsymbol", "mathit",
    "textit", "textbf", "mathsf", "mathtt", "textrm", "emph", "underbrace", "overbrace",
    "overline", "underline"]);
  const ACCENT = { hat: "\u0302", widehat: "\u0302", tilde: "\u0303", widetilde: "\u0303",
    bar: "\u0304", vec: "\u20d7", dot: "\u0307", ddot: "\u0308" };
  const DOUBLE = { E: "𝔼", R: "ℝ", N: "ℕ", Z: "ℤ", Q: "ℚ", C: "ℂ", P: "ℙ" };
  const SCRIPT = { B: "ℬ", E: "ℰ", F: "ℱ", H: "ℋ", I: "ℐ", L: "ℒ", M: "ℳ", R: "ℛ" };
  const SUP = { 0: "⁰", 1: "¹", 2: "²", 3: "³", 4: "⁴", 5: "⁵", 6: "⁶", 7: "⁷", 8: "⁸", 9: "⁹",
    "+": "⁺", "-": "⁻", "−": "⁻", "=": "⁼", "(": "⁽", ")": "⁾", n: "ⁿ", i: "ⁱ", T: "ᵀ" };
  const SUB = { 0: "₀", 1: "₁", 2: "₂", 3: "₃", 4: "₄", 5: "₅", 6: "₆", 7: "₇", 8: "₈", 9: "₉",
    "+": "₊", "-": "₋", "=": "₌", "(": "₍", ")": "₎", i: "ᵢ", j: "ⱼ", k: "ₖ", n: "ₙ", t: "ₜ",
    a: "ₐ", e: "ₑ", o: "ₒ", x: "ₓ" };

  /** A TeX string as plain text: one pass over its tokens, groups converted recursively. */
  function texToText(tex) {
    let at = 0;
    const group = () => {  // the next argument: {...} or one token
      while (tex[at] === " ") at++;
      if (tex[at] === "{") {
        let depth = 0;
        const start = at;
        for (; at < tex.length; at++) {
          if (tex[at] === "{") depth++;
          else if (tex[at] === "}" && --depth === 0) break;
        }
        at++;
        return convert(tex.slice(start + 1, at - 1));
      }
      return token();
    };
    const script = (map, mark) => {
      const body = group();
      if (body && [...body].every((c) => c in map)) return [...body].map((c) => map[c]).join("");
      return mark + ([...body].length > 1 ? `(${body})` : body);
    };
    const token = () => {
      const c = tex[at++];
      if (c === undefined) return "";
      if (c === "\\") {
        const name = /^([A-Za-z]+|.)/.exec(tex.slice(at));
        if (!name) return "";
        const word = name[1];
        at += word.length;
        if (word in SYMBOLS) return SYMBOLS[word];
        if (word in WORDS) return WORDS[word];
        if (DROP.has(word)) return "";
        if (TEXT.has(word)) return group();
        if (word in ACCENT) return group() + ACCENT[word];
        if (word === "mathbb") return [...group()].map((ch) => DOUBLE[ch] || ch).join("");
        if (word === "mathcal") return [...group()].map((ch) => SCRIPT[ch] || ch).join("");
        if (["frac", "tfrac", "dfrac"].includes(word)) {
          const [num, den] = [group(), group()];
          const wrap = (s) => ([...s].length > 1 ? `(${s})` : s);
          return `${wrap(num)}/${wrap(den)}`;
        }
        if (word === "sqrt") {
          const body = group();
          return "√" + ([...body].length > 1 ? `(${body})` : body);
        }
        if (word === "tag") return ` (${group()})`;
        if (["label", "begin", "end"].includes(word)) return (group(), "");
        if (word === "\\") return " ";
        return word;  // an operator name such as \log, \exp, \max, \det
      }
      if (c === "^") return script(SUP, "^");
      if (c === "_") return script(SUB, "_");
      if (c === "{") { at--; return group(); }
      if (c === "}" || c === "&" || c === "$") return "";
      if (c === "\n" || c === "~") return " ";
      return c;
    };
    const convert = (inner) => {
      const saved = [tex, at];
      [tex, at] = [inner, 0];
      let out = "";
      while (at < tex.length) out += token();
      [tex, at] = saved;
      return out;
    };
    return convert(tex).replace(/\s+/g, " ").trim();
  }

  /** The text of one math element: TeX delimiters stripped, the rest converted. */
  function mathText(el) {
    el.querySelectorAll(".headerlink").forEach((a) => a.remove());
    const tex = el.textContent.replace(/\\[()[\]]/g, " ").replace(/\$/g, " ");
    return ` ${texToText(tex)} `;
  }

  function readable(htmlString) {
    const doc = new DOMParser().parseFromString(htmlString, "text/html");
    doc.querySelectorAll("#jb-print-docs-body, .onlyprint").forEach((el) => el.remove());
    doc.querySelectorAll(".math").forEach((el) => el.replaceWith(doc.createTextNode(mathText(el))));
    return doc.documentElement.outerHTML;
  }

  if (typeof Search !== "undefined" && Search.htmlToText) {
    const htmlToText = Search.htmlToText;
    Search.htmlToText = (htmlString, anchor) => htmlToText(readable(htmlString), anchor);
  }
})();
