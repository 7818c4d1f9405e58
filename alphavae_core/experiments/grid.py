"""Run a grid of VAE trainings, skipping what is already in the results: ``alphavae grid``.

``--experiment`` picks the catalogue (:data:`.experiments.EXPERIMENTS`): ``benchmarks`` (chapter 4),
``denoising`` (Figure 5) or ``rate_distortion`` (Figure 7). Runs that share data, architecture and
schedule train together (see :mod:`.trainer`), in groups of ``--group-size``. Each finished group
appends tidy rows to ``results/<preset>/<experiment>.csv`` and its alpha histories and landscapes
to ``<experiment>_histories.json`` (see :mod:`.results`).

Beyond one machine: ``--shard K/N`` takes every N-th run of the full grid, starting at the K-th,
and writes to shard files that ``--merge`` folds into the main table without duplicate rows;
``--executor slurm`` submits the N shards as SLURM jobs through submitit (``--executor local``
runs them as local processes through submitit, which is how the tests exercise it).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from alphavae_core.config import TrainConfig, resolve_device, set_determinism
from alphavae_core.errors import ArgumentParser, cli_entry
from alphavae_core.experiments.catalogue import CODE_VERSION, EXPERIMENTS, KEEP_WEIGHTS
from alphavae_core.experiments.presets import PRESET_NAMES, check_preset
from alphavae_core.experiments.results import (
    KEY,
    append_rows,
    config_key,
    read_json,
    read_table,
    remove,
    update_json,
)
from alphavae_core.experiments.train import DETERMINISTIC_HELP, fit
from alphavae_core.paths import results_dir
from alphavae_core.trainer import Trainer

TABLE = "benchmarks"
EXECUTORS = ("inline", "local", "slurm")
RECON_IMAGES = 8  # test images whose reconstructions are kept per run (the chapter's grids)
ROW_CONFIG = (
    "dataset",
    "regulariser",
    "alpha0",
    "weight",
    "seed",
    "epochs",
    "batch_size",
    "lr",
    "noise",
    "subset",
)
METRICS = ("test_mse", "rate", "train_mse", "train_rate")


def key_of(config: TrainConfig) -> str:
    """The results key of a run: its resolved configuration and the code version."""
    return config_key(config.resolved().to_dict(), CODE_VERSION)


def table_paths(folder: Path, shard: tuple[int, int] = (1, 1), table: str = TABLE) -> tuple[Path, Path]:
    """The CSV table and the JSON histories a shard writes to (the main ones for 1/1)."""
    suffix = "" if shard == (1, 1) else f".shard-{shard[0]}-of-{shard[1]}"
    return folder / f"{table}{suffix}.csv", folder / f"{table}_histories{suffix}.json"


def parse_shard(text: str) -> tuple[int, int]:
    """``"K/N"`` -> (K, N) with 1 <= K <= N."""
    try:
        k, n = (int(part) for part in text.split("/"))
    except ValueError:
        raise ValueError(f"--shard must look like K/N (for example 2/4), got {text!r}") from None
    if not 1 <= k <= n:
        raise ValueError(f"--shard K/N needs 1 <= K <= N, got {text!r}")
    return k, n


def shard_of(configs: Sequence[TrainConfig], shard: tuple[int, int]) -> list[TrainConfig]:
    """Every N-th run of the full grid, starting at the K-th (stable whatever is already done)."""
    k, n = shard
    return [c for i, c in enumerate(configs) if i % n == k - 1]


def _histories_of(csv_path: Path, table: str) -> Path:
    return csv_path.with_name(csv_path.name.replace(table, f"{table}_histories", 1).replace(".csv", ".json"))


def _table_files(folder: Path, table: str) -> list[Path]:
    """The main and shard CSV files of ``table`` (not those of a table whose name merely starts alike)."""
    main = folder / f"{table}.csv"
    return ([main] if main.exists() else []) + sorted(folder.glob(f"{table}.shard-*.csv"))


def known_keys(folder: Path, table: str = TABLE) -> set[str]:
    """Keys with a row AND a histories entry in the main or a shard table of ``folder`` (a run
    whose row or histories were lost, or set aside as corrupt, is not done)."""
    keys: set[str] = set()
    for path in _table_files(folder, table):
        rows = read_table(path)
        histories = read_json(_histories_of(path, table), default={})
        if KEY in rows.columns and isinstance(histories, dict):
            keys |= set(rows[KEY]) & set(histories)
    return keys


def pending(configs: Sequence[TrainConfig], folder: Path, table: str = TABLE) -> list[TrainConfig]:
    """The runs of ``configs`` that have no results row yet."""
    done = known_keys(folder, table)
    return [c for c in configs if key_of(c) not in done]


def _round(values: Any, digits: int = 5) -> Any:
    if isinstance(values, float):
        return float(f"{values:.{digits}g}")
    if isinstance(values, (list, tuple)):
        return [_round(v, digits) for v in values]
    if isinstance(values, dict):
        return {k: _round(v, digits) for k, v in values.items()}
    return values


def row_of(config: TrainConfig, metrics: dict[str, Any]) -> dict[str, Any]:
    """The tidy results row of one finished run."""
    cfg = config.resolved().to_dict()
    return {
        **{name: cfg[name] for name in ROW_CONFIG},
        **{name: metrics[name] for name in METRICS},
        "alpha_final": metrics["alpha"],
        KEY: key_of(config),
        "code_version": CODE_VERSION,
        "seconds": round(metrics["train_seconds"], 1),
        "runs_together": metrics["runs_trained_together"],
        **{name: metrics[name] for name in ("device", "date", "commit", "torch")},
    }


def encode_images(images: torch.Tensor) -> dict[str, Any]:
    """Images in [0, 1] (N, C, H, W) as compact JSON: uint8 bytes in base64 plus the shape."""
    u8 = (images.clamp(0, 1) * 255).round().to(torch.uint8).contiguous()
    return {"shape": list(u8.shape), "uint8_base64": base64.b64encode(u8.numpy().tobytes()).decode()}


def decode_images(encoded: dict[str, Any]) -> torch.Tensor:
    """Inverse of :func:`encode_images` (floats in [0, 1])."""
    raw = np.frombuffer(base64.b64decode(encoded["uint8_base64"]), dtype=np.uint8).reshape(encoded["shape"])
    return torch.from_numpy(raw.copy()).float() / 255


def save_weights(trainer: Trainer, run: int, path: Path) -> None:
    """Run ``run``'s network weights as float16 safetensors (about 0.9 MB for Table 2's MNIST VAE),
    with its configuration in the metadata: enough to decode samples, never to resume training."""
    from safetensors.torch import save_file

    tensors = {k: v[run].detach().to("cpu", torch.float16).contiguous() for k, v in trainer.params.items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    config = json.dumps(trainer.configs[run].to_dict(), sort_keys=True)
    save_file(tensors, str(tmp), metadata={"config": config, "code_version": CODE_VERSION})
    os.chmod(tmp, 0o644)  # safetensors writes 0600 files; weights are results, readable like the tables
    os.replace(tmp, path)


def load_weights(path: Path) -> tuple[dict[str, torch.Tensor], TrainConfig]:
    """Inverse of :func:`save_weights`: float32 parameters by name (as ``VAE.named_parameters``) and the
    run's configuration."""
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as handle:
        config = TrainConfig.from_dict(json.loads(handle.metadata()["config"]))
        params = {k: handle.get_tensor(k).float() for k in handle.keys()}
    return params, config


def default_group_size(device: str) -> int:
    """Runs trained together when ``--group-size`` is not given: 16 on a GPU, where vectorised groups
    pay; 1 on a CPU, where they measured slower than one run at a time (see ``alphavae bench``)."""
    return 16 if resolve_device(device).type == "cuda" else 1


def _groups(configs: Sequence[TrainConfig], group_size: int) -> list[list[TrainConfig]]:
    if group_size == 1:  # one at a time: keep the catalogue's order (whole seeds first)
        return [[c] for c in configs]
    by_key: dict[tuple, list[TrainConfig]] = {}
    for c in configs:
        by_key.setdefault(c.group_key(), []).append(c)
    return [runs[i : i + group_size] for runs in by_key.values() for i in range(0, len(runs), group_size)]


def run_grid(
    configs: Sequence[TrainConfig],
    folder: Path,
    device: str = "auto",
    group_size: int | None = None,
    shard: tuple[int, int] = (1, 1),
    show_progress: bool = True,
    table: str = TABLE,
    deterministic: bool | None = None,
) -> int:
    """Train the runs of ``shard`` that have no row in ``folder``; return how many were trained.

    Each group checkpoints every epoch under ``folder/checkpoints/`` (git-ignored) and resumes from there if interrupted.
    ``group_size`` defaults to :func:`default_group_size`; ``deterministic`` as in :func:`.train.fit`.
    The runs that ``table``'s :data:`.KEEP_WEIGHTS` rule names also leave their final weights in
    ``folder/weights/<config_key>.safetensors`` (float16), written before their row.
    """
    keep = KEEP_WEIGHTS.get(table, lambda config: False)
    if group_size is None:
        group_size = default_group_size(device)
    if group_size <= 0:
        raise ValueError(f"--group-size must be positive, got {group_size}")
    todo = pending(shard_of(configs, shard), folder, table)
    csv_path, json_path = table_paths(folder, shard, table)
    for group in _groups(todo, group_size):
        keys = [key_of(c) for c in group]
        scratch = folder / "checkpoints" / hashlib.sha256("".join(keys).encode()).hexdigest()[:12]
        metrics, trainer = fit(
            group, device, out=scratch, resume=True, show_progress=show_progress, deterministic=deterministic
        )
        for run, (config, k) in enumerate(zip(group, keys)):
            if keep(config):
                save_weights(trainer, run, folder / "weights" / f"{k}.safetensors")
        append_rows(csv_path, [row_of(c, m) for c, m in zip(group, metrics)])
        histories = {
            k: {
                **_round(
                    {name: m[name] for name in ("alpha_history", "alpha_steps", "train_loss", "landscape")}
                ),
                "records": _round(m["records"], 7),
                "reconstructions": encode_images(trainer.reconstructions(run, RECON_IMAGES)[1]),
            }
            for run, (k, m) in enumerate(zip(keys, metrics))
        }
        update_json(json_path, histories)
        shutil.rmtree(scratch, ignore_errors=True)
        del trainer  # the next group's trainer is built without this one's tensors alive (GPU memory)
    return len(todo)


def merge(folder: Path, table: str = TABLE) -> pd.DataFrame:
    """Fold every shard table of ``folder`` into the main one (one row per key) and remove the shards."""
    main_csv, main_json = table_paths(folder, table=table)
    for csv_path in sorted(folder.glob(f"{table}.shard-*.csv")):
        json_path = _histories_of(csv_path, table)
        append_rows(main_csv, read_table(csv_path).to_dict("records"))
        update_json(main_json, read_json(json_path, default={}) or {})
        remove(csv_path)
        remove(json_path)
    return read_table(main_csv)


def _run_shard(
    configs: list[dict],
    folder: str,
    device: str,
    group_size: int | None,
    shard: tuple[int, int],
    threads: int | None,
    table: str = TABLE,
    deterministic: bool = False,
) -> int:
    """Entry point of one submitted job (plain data in, so it pickles cleanly)."""
    if threads:
        torch.set_num_threads(threads)
    set_determinism(deterministic)
    runs = [TrainConfig.from_dict(c) for c in configs]
    return run_grid(runs, Path(folder), device, group_size, shard, show_progress=False, table=table)


def submit(
    configs: Sequence[TrainConfig],
    folder: Path,
    n_shards: int,
    executor: str,
    device: str,
    group_size: int | None,
    partition: str | None = None,
    gpus: int = 1,
    timeout_min: int = 24 * 60,
    threads: int | None = None,
    table: str = TABLE,
    deterministic: bool = False,
) -> list[int]:
    """Run the grid as ``n_shards`` submitit jobs (SLURM, or local processes) and merge their rows."""
    import submitit

    logs = folder / "submitit"
    if executor == "slurm":
        ex = submitit.AutoExecutor(folder=logs, cluster="slurm")
        extra = {"slurm_partition": partition} if partition else {}
        ex.update_parameters(timeout_min=timeout_min, gpus_per_node=gpus, cpus_per_task=4, **extra)
    elif executor == "local":
        ex = submitit.LocalExecutor(folder=logs)
        ex.update_parameters(timeout_min=timeout_min)
    else:
        raise ValueError(f"unknown executor {executor!r}; choose one of {', '.join(EXECUTORS)}")
    plain = [c.to_dict() for c in configs]
    jobs = [
        ex.submit(
            _run_shard, plain, str(folder), device, group_size, (k, n_shards), threads, table, deterministic
        )
        for k in range(1, n_shards + 1)
    ]
    done = [job.result() for job in jobs]
    merge(folder, table)
    return done


def _csv(text: str | None) -> tuple[str, ...] | None:
    return None if text is None else tuple(part.strip() for part in text.split(",") if part.strip())


def _only(configs: list, field: str, flag: str, values: tuple[str, ...] | None) -> list:
    """The configs whose ``field`` is one of ``values`` (all when None); a value no run has is an error."""
    if values is None:
        return configs
    try:
        wanted = {float(v) for v in values}
    except ValueError:
        raise ValueError(f"{flag} takes numbers, got {','.join(values)}") from None
    have = sorted({getattr(c, field) for c in configs})
    unknown = sorted(wanted - set(have))
    if unknown:
        raise ValueError(
            f"no run of this experiment has {field} {', '.join(f'{v:g}' for v in unknown)}; "
            f"its values are {', '.join(f'{v:g}' for v in have)}"
        )
    return [c for c in configs if getattr(c, field) in wanted]


def parse_args(argv: list[str] | None = None, prog: str = "alphavae grid") -> argparse.Namespace:
    p = ArgumentParser(prog=prog, description=__doc__)
    p.add_argument("--experiment", default=TABLE, help=f"one of {', '.join(EXPERIMENTS)}")
    p.add_argument("--preset", default="cpu", help=f"one of {', '.join(PRESET_NAMES)}")
    p.add_argument("--datasets", default=None, help="comma-separated (default: the preset's)")
    p.add_argument("--regularisers", default=None, help="comma-separated (default: the experiment's)")
    p.add_argument("--seeds", default=None, help="comma-separated (default: the preset's)")
    p.add_argument("--weights", default=None, help="comma-separated divergence weights (default: all)")
    p.add_argument("--noise", default=None, help="comma-separated input-noise sigmas (default: all)")
    p.add_argument(
        "--no-figure1", action="store_true", help="benchmarks: skip the initial-alpha sweeps (Figures 1, 6)"
    )
    p.add_argument("--device", default="auto", help="auto, cpu or cuda")
    p.add_argument("--deterministic", action="store_true", help=DETERMINISTIC_HELP)
    p.add_argument(
        "--group-size",
        type=int,
        default=None,
        help="runs trained together in one vectorised pass (default: 1 on CPU, 16 on CUDA)",
    )
    p.add_argument(
        "--threads", type=int, default=None, help="CPU threads per process (default: torch's choice)"
    )
    p.add_argument("--shard", default="1/1", help="K/N: run only the K-th of N shards")
    p.add_argument("--executor", default="inline", help=f"one of {', '.join(EXECUTORS)}")
    p.add_argument("--shards", type=int, default=1, help="with --executor local|slurm: number of jobs")
    p.add_argument("--partition", default=None, help="SLURM partition")
    p.add_argument("--gpus", type=int, default=1, help="GPUs per SLURM job")
    p.add_argument("--out", type=Path, default=None, help="results folder (default: results/<preset>)")
    p.add_argument("--list", action="store_true", help="print the runs still missing and exit")
    p.add_argument("--merge", action="store_true", help="fold shard tables into the main table and exit")
    p.add_argument("--quiet", action="store_true")
    return p.parse_args(argv)


@cli_entry
def main(argv: list[str] | None = None, prog: str = "alphavae grid") -> None:
    args = parse_args(argv, prog)
    preset = check_preset(args.preset)
    if args.experiment not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {args.experiment!r}; choose one of {', '.join(EXPERIMENTS)}")
    table = args.experiment
    folder = args.out or results_dir(preset)
    if args.merge:
        print(f"{len(merge(folder, table))} rows in {table_paths(folder, table=table)[0]}")
        return
    seeds = _csv(args.seeds)
    extra = {"figure1": not args.no_figure1} if table == "benchmarks" else {}
    configs = EXPERIMENTS[table](
        preset,
        datasets=_csv(args.datasets),
        regularisers=_csv(args.regularisers),
        seeds=None if seeds is None else tuple(int(s) for s in seeds),
        **extra,
    )
    # narrow the catalogue to some of its points, e.g. to run them first
    configs = _only(configs, "weight", "--weights", _csv(args.weights))
    configs = _only(configs, "noise", "--noise", _csv(args.noise))
    if args.group_size is None:
        args.group_size = default_group_size(args.device)
    set_determinism(args.deterministic)
    if args.threads is not None:
        if args.threads <= 0:
            raise ValueError(f"--threads must be positive, got {args.threads}")
        torch.set_num_threads(args.threads)
    if args.list:
        for c in pending(configs, folder, table):
            print(
                f"{c.dataset} {c.regulariser} alpha0={c.alpha0} weight={c.weight} noise={c.noise} "
                f"seed={c.seed} epochs={c.epochs}"
            )
        return
    if args.executor == "inline":
        shard = parse_shard(args.shard)
        n = run_grid(configs, folder, args.device, args.group_size, shard, not args.quiet, table)
        print(f"trained {n} runs; results in {table_paths(folder, shard, table)[0]}")
    else:
        if args.shards <= 0:
            raise ValueError(f"--shards must be positive, got {args.shards}")
        counts = submit(
            configs,
            folder,
            args.shards,
            args.executor,
            args.device,
            args.group_size,
            args.partition,
            args.gpus,
            threads=args.threads,
            table=table,
            deterministic=args.deterministic,
        )
        print(
            f"trained {sum(counts)} runs in {args.shards} jobs; results in {table_paths(folder, table=table)[0]}"
        )
