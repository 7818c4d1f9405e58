"""``python -m alphavae_core <command>``: the same as the ``alphavae`` console script."""

from alphavae_core.cli import main

main()
