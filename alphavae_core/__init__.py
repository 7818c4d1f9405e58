"""alphavae_core: the thin library behind the α-VAE book.

Read it by folder, from the bottom layer up; each layer imports only the layers below it
(``tests/test_layers.py`` keeps it so):

* top level, **the α-VAE itself**: ``divergences`` (the closed forms, eqs 1-10; nothing else
  derives them), ``model`` (Table 2), ``losses`` (the Table 1 regularisers, eq. 14), ``trainer``
  and ``adam`` (the two optimisers, section 4), ``config`` (one run's settings); and the shared
  utilities ``plotting`` (one style, one palette), ``errors``, ``paths``, ``progress``.
* ``data/``: the image datasets, dSprites, input noise.
* ``experiments/``: presets, the catalogue of every experiment's runs, the grid runner and its
  results format, one-run training, the straightforward baseline, speed benchmarks.
* ``chapters/``: each chapter's analysis, tables and figures: ``primer`` (chapter 0),
  ``divergences`` (1), ``skew_optimisation`` (2), ``synthetic_mixtures`` (3), ``benchmarks`` (4),
  ``denoising`` and ``rate_distortion``; the speed appendix reads ``experiments.bench``.
* ``cli``: the ``alphavae`` command (``train``, ``grid``, ``mixtures``, ``bench``).
"""

__version__ = "0.1.0"
