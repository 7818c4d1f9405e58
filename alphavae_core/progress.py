"""Progress bars that show for a person and stay quiet under papermill, nbval and CI."""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import TypeVar

from tqdm.auto import tqdm

T = TypeVar("T")


def quiet() -> bool:
    """True when output must stay reproducible: ``ALPHAVAE_QUIET=1`` or ``CI`` is set."""
    return os.environ.get("ALPHAVAE_QUIET", "") not in ("", "0") or bool(os.environ.get("CI"))


def progress(iterable: Iterable[T] | None = None, **kwargs) -> tqdm:
    """``tqdm.auto.tqdm`` that is disabled when :func:`quiet` says so."""
    kwargs.setdefault("disable", quiet())
    kwargs.setdefault("leave", False)
    return tqdm(iterable, **kwargs)
