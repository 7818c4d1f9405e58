"""The experiment machinery: ``presets`` and their scales, ``catalogue`` (every run of every experiment),
``grid`` (the runner and its results cache), ``results`` (the one results format), ``train`` (one run
from the command line), ``baseline`` (the straightforward loop) and ``bench`` (speed)."""
