"""alphavae_core: the thin library behind the alpha-VAE book.

Modules, by chapter:

* ``divergences`` (the closed forms; nothing else computes them), ``montecarlo``, ``explore``: chapter 1.
* ``skew``, ``skew_explore``: chapter 2 (Propositions 1 and 2).
* ``mixtures``, ``mixture_fit``: chapter 3 (Figure 2).
* ``model`` (Table 2), ``losses`` (Table 1 regularisers), ``trainer``, ``adam`` and ``train`` (two optimisers,
  the fast engine, the CLI), ``baseline`` (the straightforward loop), ``data`` and ``dsprites``,
  ``experiments`` and ``grid`` (presets, the grid runner), ``benchmarks``: chapter 4.
* ``bench``: the speed appendix.
* Shared: ``results`` (the one results format), ``plotting`` (one style, one palette), ``presets``,
  ``progress``, ``paths``, ``errors``.
"""

__version__ = "0.1.0"
