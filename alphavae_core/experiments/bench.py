"""Speed benchmarks, side by side in one run: ``alphavae bench``.

* ``epoch``: one MNIST epoch, whole process with start-up, through the straightforward loop
  (:mod:`.baseline`: torchvision dataset -> DataLoader -> network -> two Adams) and through the
  training CLI (:mod:`.train`, the fast trainer), alternated ``--repeats`` times.
* ``step``: milliseconds per training step at batch 64 and batch 1, fast trainer against the
  straightforward step, alternating in one process (:func:`bench_step`).
* ``grid``: aggregate images/s of the seven Table 1 regularisers trained together in one
  vectorised pass, against the same seven trained one at a time, on ``--grid-images`` images.

``--device`` picks where all three run (``cuda`` on a GPU machine: ``scripts/gpu_check.sh``); on a
GPU every clock is read after the device finished its queued work.

Rows go to ``results/speed/speed.csv`` (the results format of :mod:`.results`). Nothing here is
asserted in the tests: speed is reported, not tested.
"""

from __future__ import annotations

import argparse
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import torch

from alphavae_core.config import DEVICES, TrainConfig, resolve_device, set_determinism
from alphavae_core.errors import ArgumentParser, cli_entry
from alphavae_core.experiments.results import append_rows, config_key, provenance, read_table
from alphavae_core.experiments.train import DETERMINISTIC_HELP, fit
from alphavae_core.losses import TABLE1_REGULARISERS
from alphavae_core.paths import REPO_ROOT

SPEED_TABLE = REPO_ROOT / "results" / "speed" / "speed.csv"
BENCH_VERSION = "bench-1"


def _whole_process(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, *argv], check=True, capture_output=True, text=True, cwd=REPO_ROOT)
    return time.perf_counter() - start


def _synchronize(device: torch.device) -> None:
    """Wait for a GPU's queued work before a clock is read (a no-op on the CPU)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def plain_epoch_main(threads: int | None, device: str = "cpu") -> None:
    """One MNIST epoch of the straightforward loop (run in its own process by :func:`bench_epoch`)."""
    from alphavae_core.experiments.baseline import train_plain

    if threads:
        torch.set_num_threads(threads)
    train_plain(TrainConfig(regulariser="tdgjs", epochs=1), device)


def bench_epoch(
    repeats: int, threads: int | None, device: str = "cpu", extra: tuple[str, ...] = ()
) -> list[dict]:
    """``extra``: further flags for both processes (``--deterministic``)."""
    common = [*(["--threads", str(threads)] if threads else []), "--device", device, *extra]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(repeats):
            plain = _whole_process(["-m", "alphavae_core", "bench", "--plain-epoch", *common])
            fast = _whole_process(
                ["-m", "alphavae_core", "train", "--regulariser", "tdgjs", "--epochs", "1", "--quiet",
                 "--out", f"{tmp}/run{r}", *common]
            )  # fmt: skip
            rows.append(
                {"benchmark": "mnist_epoch_whole_process", "repeat": r, "plain_s": plain, "fast_s": fast}
            )
    return rows


def bench_step(
    blocks: int, threads: int | None, batch_sizes: tuple[int, ...] = (64, 1), device: str = "cpu"
) -> list[dict]:
    """Milliseconds per training step, in one process: the fast trainer against the straightforward
    step (:class:`.baseline.PlainStep`: module forward, two ``torch.optim.Adam``) fed the same
    in-memory batches, so the DataLoader plays no part. Blocks of 25 steps alternate between the
    two and the medians are reported, which keeps a machine's drifting speed out of the ratio.
    Batch 1 measures what a step costs beyond arithmetic (dispatch, autograd, kernel set-up)."""
    if threads:
        torch.set_num_threads(threads)
    rows = []
    for bsz in batch_sizes:
        plain_ms, fast_ms = _step_times(bsz, blocks, resolve_device(device))
        rows.append(
            {"benchmark": "training_step_ms", "batch_size": bsz, "blocks": blocks, "plain_ms": plain_ms,
             "fast_ms": fast_ms, "plain_images_per_s": bsz / plain_ms * 1e3,
             "fast_images_per_s": bsz / fast_ms * 1e3}
        )  # fmt: skip
    return rows


def _step_times(bsz: int, blocks: int, device: torch.device, steps: int = 25) -> tuple[float, float]:
    import statistics

    from alphavae_core import data
    from alphavae_core.experiments.baseline import PlainStep
    from alphavae_core.model import build_vae
    from alphavae_core.trainer import Trainer

    cfg = TrainConfig(
        regulariser="tdgjs", epochs=1, batch_size=bsz, subset=steps * bsz, test_subset=16, landscape_points=0
    ).resolved()
    trainer = Trainer([cfg], device)  # one epoch = `steps` steps
    images = data.to_float(data.load_images("mnist", "train", subset=steps * bsz).to(device))
    model = build_vae(cfg.image_shape, cfg.latent_dim, 0).to(device)
    plain = PlainStep(cfg, model, torch.tensor(0.5, device=device, requires_grad=True))
    gen = torch.Generator(device=device).manual_seed(0)
    times: dict[str, list[float]] = {"plain": [], "fast": []}
    for b in range(blocks + 1):
        for name in ("plain", "fast") if b % 2 == 0 else ("fast", "plain"):
            start = time.perf_counter()
            if name == "fast":
                trainer.train_epoch(show_progress=False)
            else:
                for i in range(steps):
                    x = images[i * bsz : (i + 1) * bsz]
                    d = cfg.latent_dim
                    eps = torch.randn(bsz, d, generator=gen, device=device)
                    plain(x, x, eps, torch.randn(bsz, 2 * d, generator=gen, device=device))
            _synchronize(device)  # the fast epoch waited already; the plain step reads its loss each step
            if b > 0:  # the first block of each is a warm-up
                times[name].append((time.perf_counter() - start) / steps * 1e3)
    return statistics.median(times["plain"]), statistics.median(times["fast"])


def bench_grid(n_images: int, threads: int | None, device: str = "cpu") -> list[dict]:
    """Seven Table 1 runs one at a time, then together: vectorised in one process, and (on a CPU)
    as two single-thread submitit jobs (the grid runner's CPU strategy)."""
    from alphavae_core.experiments.grid import submit

    if threads:
        torch.set_num_threads(threads)
    dev = resolve_device(device)
    configs = [
        TrainConfig(regulariser=r, seed=i, epochs=1, subset=n_images, test_subset=100, landscape_points=0)
        for i, r in enumerate(TABLE1_REGULARISERS)
    ]
    fit(configs[:1], dev, show_progress=False)  # warm-up: data load and first-call costs
    if dev.type == "cuda":  # and a group's: cuDNN autotunes the grouped convolutions' kernels
        fit(configs[:2], dev, show_progress=False)
    _synchronize(dev)
    start = time.perf_counter()
    for c in configs:
        fit([c], dev, show_progress=False)
    _synchronize(dev)
    alone = time.perf_counter() - start
    start = time.perf_counter()
    fit(configs, dev, show_progress=False)
    _synchronize(dev)
    vectorised = time.perf_counter() - start
    strategies = [("vmap, one process", vectorised)]
    if dev.type == "cpu":
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            submit(configs, Path(tmp), n_shards=2, executor="local", device="cpu", group_size=1, threads=1)
            strategies.append(("2 processes x 1 thread", time.perf_counter() - start))
    total = n_images * len(configs)
    return [
        {
            "benchmark": "table1_grid_7_runs",
            "strategy": strategy,
            "images": total,
            "alone_s": alone,
            "together_s": together,
            "alone_images_per_s": total / alone,
            "together_images_per_s": total / together,
        }
        for strategy, together in strategies
    ]


def cpu_name() -> str:
    """The processor's model name (from /proc/cpuinfo on Linux), else the architecture."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


@cli_entry
def main(argv: list[str] | None = None, prog: str = "alphavae bench") -> None:
    p = ArgumentParser(prog=prog, description=__doc__)
    p.add_argument("--what", default="epoch,step,grid", help="comma-separated: epoch, step, grid")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--blocks", type=int, default=20, help="alternating blocks of 25 steps (step)")
    p.add_argument("--grid-images", type=int, default=12800)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--device", default="cpu", help=f"one of {', '.join(DEVICES)} (default: cpu)")
    p.add_argument("--deterministic", action="store_true", help=DETERMINISTIC_HELP)
    p.add_argument("--out", type=Path, default=SPEED_TABLE)
    p.add_argument("--plain-epoch", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    device = resolve_device(args.device)
    set_determinism(args.deterministic)
    if args.plain_epoch:
        plain_epoch_main(args.threads, str(device))
        return
    extra = ("--deterministic",) if args.deterministic else ()
    runners = {
        "epoch": lambda: bench_epoch(args.repeats, args.threads, str(device), extra),
        "step": lambda: bench_step(args.blocks, args.threads, device=str(device)),
        "grid": lambda: bench_grid(args.grid_images, args.threads, str(device)),
    }
    what = set(args.what.split(","))
    unknown = what - runners.keys()
    if unknown:
        raise ValueError(
            f"--what: unknown benchmark {', '.join(sorted(unknown))}; choose from {', '.join(runners)}"
        )
    rows = [row for name, run in runners.items() if name in what for row in run()]
    machine = {
        "cpu": cpu_name(),
        "cores": torch.get_num_threads() if args.threads is None else args.threads,
        **provenance(device.type),
    }
    if device.type == "cuda":  # CPU rows keep their columns
        machine.update(gpu=torch.cuda.get_device_name(device), deterministic=args.deterministic)
    for row in rows:
        row.update(machine)
        row["config_key"] = config_key({k: v for k, v in row.items() if k != "date"}, BENCH_VERSION)
        print({k: round(v, 2) if isinstance(v, float) else v for k, v in row.items()})
    append_rows(args.out, rows)


def load_speed(path: Path = SPEED_TABLE) -> pd.DataFrame:
    """The committed speed rows (empty if none were measured yet)."""
    return read_table(path)


def _rows(table: pd.DataFrame, benchmark: str) -> pd.DataFrame:
    """The rows of one benchmark (none if the table is empty or has no ``benchmark`` column)."""
    return table[table.get("benchmark", pd.Series(dtype=str)) == benchmark]


def epoch_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Median whole-process seconds of one MNIST epoch, plain loop vs fast trainer, per machine run."""
    rows = _rows(table, "mnist_epoch_whole_process")
    if rows.empty:
        return pd.DataFrame()
    out = rows.groupby(["date", "cpu", "cores", "commit"], as_index=False)[["plain_s", "fast_s"]].median()
    out["speed_up"] = out.plain_s / out.fast_s
    return out.round({"plain_s": 1, "fast_s": 1, "speed_up": 2})


def step_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Median milliseconds per training step, straightforward vs fast, per machine run and batch size."""
    rows = _rows(table, "training_step_ms")
    if rows.empty:
        return pd.DataFrame()
    out = rows[["date", "cpu", "cores", "commit", "batch_size", "plain_ms", "fast_ms"]].copy()
    out["batch_size"] = out.batch_size.astype(int)
    out["speed_up"] = out.plain_ms / out.fast_ms
    return out.round({"plain_ms": 2, "fast_ms": 2, "speed_up": 2}).reset_index(drop=True)


def grid_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Aggregate images/s of the Table 1 grid, one at a time vs together, per machine run."""
    rows = _rows(table, "table1_grid_7_runs")
    if rows.empty:
        return pd.DataFrame()
    cols = ["date", "cpu", "cores", "strategy", "alone_images_per_s", "together_images_per_s"]
    out = rows[[c for c in cols if c in rows.columns]].copy()
    out["speed_up"] = out.together_images_per_s / out.alone_images_per_s
    return out.round({"alone_images_per_s": 0, "together_images_per_s": 0, "speed_up": 2}).reset_index(
        drop=True
    )
