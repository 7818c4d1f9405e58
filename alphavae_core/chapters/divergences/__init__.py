"""Chapter 1, the divergence family: ``explorer`` (how alpha moves N_alpha and the divergences) and
``montecarlo`` (sampling checks of the closed forms in :mod:`alphavae_core.divergences`)."""
