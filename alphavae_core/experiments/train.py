"""Train VAEs and write their metrics: ``alphavae train --help``.

Writes ``OUT/metrics.json`` (``test_mse``, ``rate``, ``alpha``, ``alpha_history``,
``images_per_second``, ``train_seconds``, ``config`` and more) and ``OUT/checkpoint.pt``, written
atomically after every epoch, from which ``--resume`` continues.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

import torch

from alphavae_core.config import DEVICES, TrainConfig, set_determinism
from alphavae_core.data import DATASETS
from alphavae_core.errors import ArgumentParser, CorruptCheckpoint, cli_entry
from alphavae_core.experiments.results import provenance, write_json
from alphavae_core.losses import REGULARISERS
from alphavae_core.trainer import Trainer, TrainingDiverged

CHECKPOINT = "checkpoint.pt"
# command-line flags that are TrainConfig fields of the same name
CONFIG_FLAGS = (
    "dataset", "regulariser", "alpha0", "weight", "epochs", "batch_size", "lr", "alpha_lr", "seed", "noise",
    "subset", "test_subset", "alpha_every",
)  # fmt: skip
METRICS = "metrics.json"
DETERMINISTIC_HELP = (
    "reproducible GPU runs: IEEE float32 convolutions and matrix products, deterministic algorithms "
    "(default: cuDNN autotuning, PyTorch's precision defaults)"
)


def fit(
    configs: list[TrainConfig],
    device: str = "auto",
    out: str | Path | None = None,
    resume: bool = False,
    show_progress: bool = True,
    deterministic: bool | None = None,
) -> tuple[list[dict[str, Any]], Trainer]:
    """Train ``configs`` together (one run or a compatible group) and return one metrics dict per run.

    With ``out``, a checkpoint is written there atomically after every epoch; ``resume`` continues
    from it. A checkpoint that cannot be read back (truncated, damaged) is never used: it is moved
    aside as ``checkpoint.pt.corrupt`` with a warning and training starts again. A readable one
    written for other settings is a ``ValueError`` (most likely a wrong ``--out``), and so is one
    written on another kind of device (its random streams cannot continue here). ``deterministic``:
    see :func:`.config.set_determinism` (``None`` leaves PyTorch's settings as they are).
    """
    trainer = Trainer(configs, device, deterministic)
    checkpoint = Path(out) / CHECKPOINT if out is not None else None
    if checkpoint is not None and checkpoint.exists():
        if not resume:
            raise ValueError(f"{checkpoint} exists; pass --resume to continue it, or choose another --out")
        try:
            trainer.load_checkpoint(checkpoint)
        except Exception as err:
            if not _is_corrupt(err):
                raise
            reason = "unreadable" if isinstance(err, ValueError) else f"no checkpoint: {type(err).__name__}"
            bad = checkpoint.with_name(checkpoint.name + ".corrupt")
            os.replace(checkpoint, bad)
            warnings.warn(
                f"{checkpoint} is corrupt ({reason}); moved to {bad.name}, training again from epoch 1",
                stacklevel=2,
            )
            del trainer  # a failed load may have changed part of the state; free it before the new one
            trainer = Trainer(configs, device)
    while trainer.epoch < trainer.cfg.epochs:
        trainer.train_epoch(show_progress=show_progress)
        if checkpoint is not None:
            trainer.save_checkpoint(checkpoint)
    return collect_metrics(trainer), trainer


def _is_corrupt(err: Exception) -> bool:
    """Whether loading a checkpoint failed because the file is damaged (not because it is another run's).

    ``Trainer.load_checkpoint`` reports an unreadable file as :class:`.CorruptCheckpoint` (older
    versions: a ``ValueError`` saying "unreadable"); a file that unpickles into something other than
    a checkpoint surfaces as a lookup, type or shape error.
    """
    if isinstance(err, CorruptCheckpoint):
        return True
    if isinstance(err, ValueError):
        return "unreadable" in str(err)
    if isinstance(err, torch.OutOfMemoryError):  # the file is fine; the device is full
        return False
    return isinstance(err, (KeyError, AttributeError, TypeError, IndexError, RuntimeError, EOFError))


def collect_metrics(trainer: Trainer) -> list[dict[str, Any]]:
    """Final metrics and histories of every run in ``trainer``."""
    # the trainer has just recorded the metrics of the epoch it ends on: reuse them, do not evaluate twice
    last = [
        h.records[-1] if h.records and h.records[-1]["epoch"] == trainer.epoch else None
        for h in trainer.histories
    ]
    if all(last):
        evaluation = [{k: r[k] for k in ("test_mse", "rate", "train_mse", "train_rate")} for r in last]
    else:
        evaluation = trainer.evaluate()
    n_images = trainer.train_x.shape[0] * trainer.epoch
    aggregate_speed = n_images * trainer.n_runs / max(trainer.train_seconds, 1e-9)
    origin = provenance(str(trainer.device))  # the same for every run of the group (git runs once)
    rows = []
    for cfg, reg, ev, hist in zip(trainer.configs, trainer.regularisers, evaluation, trainer.histories):
        skewed = reg.uses_skew  # alpha means nothing for kl, fwdkl, beta and mmd
        rows.append(
            {
                **ev,
                "alpha": hist.alpha[-1] if skewed else None,
                "alpha_history": hist.alpha if skewed else [],
                "alpha_steps": hist.alpha_steps if skewed else [],
                "train_loss": hist.train_loss,
                "landscape": hist.landscape,
                "records": hist.records,
                "epochs_trained": trainer.epoch,
                "train_seconds": trainer.train_seconds,
                "images_per_second": aggregate_speed,
                "runs_trained_together": trainer.n_runs,
                "deterministic": torch.are_deterministic_algorithms_enabled(),
                "config": cfg.to_dict(),
                **origin,
            }
        )
    return rows


def parse_args(argv: list[str] | None = None, prog: str = "alphavae train") -> argparse.Namespace:
    p = ArgumentParser(prog=prog, description=__doc__)
    p.add_argument("--dataset", default="mnist", help=f"one of {', '.join(DATASETS)}")
    p.add_argument("--regulariser", default="kl", help=f"one of {', '.join(REGULARISERS)}")
    p.add_argument(
        "--alpha0", type=float, default=None, help="initial (or fixed) skew in [0, 1]; default 0.5"
    )
    p.add_argument(
        "--weight", type=float, default=None, help="divergence weight (beta=4, lambda=500 defaults)"
    )
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument(
        "--alpha-lr", type=float, default=None, help="learning rate of the skew's Adam (default: --lr)"
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--noise", type=float, default=0.0, help="std of Gaussian input noise (denoising)")
    p.add_argument("--subset", type=int, default=None, help="train on the first N training images")
    p.add_argument("--test-subset", type=int, default=None, help="evaluate on the first N test images")
    p.add_argument("--alpha-every", type=int, default=0, help="also record alpha every N steps")
    p.add_argument("--device", default="auto", help=f"one of {', '.join(DEVICES)}")
    p.add_argument("--deterministic", action="store_true", help=DETERMINISTIC_HELP)
    p.add_argument("--threads", type=int, default=None, help="CPU threads (default: torch's choice)")
    p.add_argument(
        "--out", type=Path, default=Path("runs/latest"), help="folder for metrics.json and checkpoint"
    )
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p.parse_args(argv)


@cli_entry
def main(argv: list[str] | None = None, prog: str = "alphavae train") -> None:
    args = parse_args(argv, prog)
    config = TrainConfig(**{name: getattr(args, name) for name in CONFIG_FLAGS})
    set_determinism(args.deterministic)
    if args.threads is not None:
        if args.threads <= 0:
            raise ValueError(f"--threads must be positive, got {args.threads}")
        torch.set_num_threads(args.threads)
    _check_out(args.out)  # before training, not after it
    try:
        (metrics,), _ = fit(
            [config], args.device, out=args.out, resume=args.resume, show_progress=not args.quiet
        )
    except TrainingDiverged as err:
        print(f"error: {err}; the last good checkpoint is kept in {args.out}", file=sys.stderr)
        raise SystemExit(3) from None
    except KeyboardInterrupt:
        print(f"interrupted; continue with the same command and --resume (out: {args.out})", file=sys.stderr)
        raise SystemExit(130) from None
    write_json(args.out / METRICS, metrics)
    summary = {k: metrics[k] for k in ("test_mse", "rate", "alpha", "train_seconds", "images_per_second")}
    print(json.dumps({k: v if v is None else round(v, 4) for k, v in summary.items()}))


def _check_out(out: Path) -> None:
    """``--out`` must be a folder this process can create and write in."""
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} is a file, not a folder; choose a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=out, prefix=".write-probe.")
        os.close(fd)
        os.remove(probe)
    except OSError as err:
        raise ValueError(f"--out {out} cannot be written ({err.strerror}); choose another folder") from None
