"""The three presets every chapter and experiment accepts: smoke, cpu, paper."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

PRESET_NAMES = ("smoke", "cpu", "paper")


def check_preset(preset: str) -> str:
    """Return ``preset`` if it is known, else raise ``ValueError`` listing the choices."""
    if preset not in PRESET_NAMES:
        raise ValueError(f"unknown preset {preset!r}; choose one of {', '.join(PRESET_NAMES)}")
    return preset


def select(table: Mapping[str, Mapping[str, Any]], preset: str) -> dict[str, Any]:
    """The settings a table holds for ``preset`` (a fresh dict, safe to modify)."""
    check_preset(preset)
    if preset not in table:
        raise ValueError(f"preset {preset!r} is not defined here; choose one of {', '.join(table)}")
    return dict(table[preset])
