"""alphavae_core: the thin library behind the alpha-VAE book.

Modules: ``divergences`` (closed forms), ``model`` (Table 2 networks), ``losses`` (Table 1
regularisers), ``trainer`` (two-optimiser training), ``data`` (datasets), ``grid`` and
``results`` (experiments and their cache), ``plotting`` (one style, one palette).
"""

__version__ = "0.1.0"
