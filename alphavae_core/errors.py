"""User-facing errors: one clear line, no traceback, exit code 2 on the command line.

Exit codes of every ``alphavae <command>``: 0 done, 2 a mistake the user can fix
(bad argument, missing or corrupt data), 3 training diverged (``train``), 1 an operating-system
failure (disk full, permission denied), 130 interrupted (Ctrl-C). Each prints one line.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Callable
from functools import wraps
from typing import NoReturn, TypeVar

T = TypeVar("T")


class UserError(ValueError):
    """A mistake the user can fix (bad argument, missing data); its message says how."""


class CorruptCheckpoint(UserError):
    """A checkpoint file that cannot be read back (truncated, damaged): recompute, never use it."""


class ArgumentParser(argparse.ArgumentParser):
    """``argparse`` whose errors are one line: a :class:`UserError` that :func:`cli_entry` prints.

    Plain argparse prints the whole usage before its error; the issue asks for one line.
    """

    def error(self, message: str) -> NoReturn:
        raise UserError(f"{message} (see {self.prog} --help)")


def one_line(err: BaseException | str) -> str:
    """The message of ``err`` on one line (some libraries' messages span several)."""
    return " ".join(part.strip() for part in str(err).splitlines() if part.strip())


def _one_line_warning(message, category, filename, lineno, file=None, line=None) -> None:
    print(f"warning: {one_line(message)}", file=sys.stderr if file is None else file)


def cli_entry(main: Callable[..., T]) -> Callable[..., T]:
    """Wrap a CLI ``main`` so a ``ValueError`` (UserError included) prints one line and exits 2.

    Warnings are printed as one ``warning: ...`` line each while ``main`` runs.
    """

    @wraps(main)
    def wrapper(*args, **kwargs):
        shown = warnings.showwarning
        warnings.showwarning = _one_line_warning
        try:
            return main(*args, **kwargs)
        except ValueError as err:  # user mistakes are ValueErrors by convention
            print(f"error: {one_line(err)}", file=sys.stderr)
            raise SystemExit(2) from None
        except OSError as err:  # disk full, permission denied: the environment, not the code
            print(f"error: {one_line(err)}", file=sys.stderr)
            raise SystemExit(1) from None
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            raise SystemExit(130) from None
        finally:
            warnings.showwarning = shown

    return wrapper
