"""The GPU code path, without a GPU as far as PyTorch allows, and on one when there is one.

* The ``meta`` device (shapes, no data) runs a training step, a whole epoch and a grid group through
  the code a GPU runs; :class:`DeviceReads` counts every read from the device (what makes a CPU
  wait for a GPU) and answers it with zeros, since a meta tensor has no data to read.
* ``FakeTensorMode`` places tensors on a ``cuda`` device that is not there: where each tensor lives.
* On the CPU: grouped runs cannot turn each other's gradients into NaN, a checkpoint written on
  another kind of device is refused in one line, and the reproducibility switch.
* Tests marked ``cuda`` run for real when ``torch.cuda.is_available()`` (``scripts/gpu_check.sh``)
  and are skipped, with that reason, everywhere else.
"""

from __future__ import annotations

import os
import weakref
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

from alphavae_core import trainer as trainer_module
from alphavae_core.config import TrainConfig, set_determinism
from alphavae_core.divergences import gjs_normal
from alphavae_core.experiments import grid, train
from alphavae_core.experiments.catalogue import EXPERIMENTS
from alphavae_core.trainer import DEFAULT_CHECK_EVERY, Trainer, TrainingDiverged

META = torch.device("meta")
TINY = dict(epochs=1, subset=96, test_subset=64, batch_size=32, landscape_images=16, landscape_points=5)
NO_GPU = "needs a CUDA device: torch.cuda.is_available() is False here"
needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason=NO_GPU)
aten = torch.ops.aten


class DeviceReads(TorchDispatchMode):
    """Records every read of a value from a device tensor into host memory (``.item()``, ``bool()``,
    ``.tolist()``, ``.cpu()``): on a GPU each one waits for all queued work. On ``meta`` the reads
    are answered with zeros, so code written for a GPU runs on to its end."""

    def __init__(self) -> None:
        super().__init__()
        self.reads: list[str] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        source = args[0] if args and isinstance(args[0], torch.Tensor) else None
        if func is aten._local_scalar_dense.default and source is not None and source.device.type != "cpu":
            self.reads.append(f"{func} on {source.device.type}")
            if source.device.type == "meta":
                return False if source.dtype == torch.bool else 0 if not source.is_floating_point() else 0.0
        to_host = str(kwargs.get("device")) == "cpu"
        if func is aten._to_copy.default and source is not None and source.device.type != "cpu" and to_host:
            self.reads.append(f"{func} from {source.device.type}")
            if source.device.type == "meta":
                return torch.zeros(source.shape, dtype=kwargs.get("dtype") or source.dtype)
        if func is aten.copy_.default and source is not None and source.device.type == "cpu":
            if isinstance(args[1], torch.Tensor) and args[1].device.type != "cpu":
                self.reads.append(f"{func} from {args[1].device.type}")
                if args[1].device.type == "meta":
                    return source.zero_()
        if func is aten.nonzero.default and source is not None and source.device.type != "cpu":
            self.reads.append(f"{func} on {source.device.type}")  # its size comes from the data
        return func(*args, **kwargs)


def _batch_index(trainer: Trainer) -> torch.Tensor:
    """A (runs, batch) index on the trainer's device, as ``train_epoch`` slices its permutations."""
    return torch.arange(trainer.cfg.batch_size, device=trainer.device).expand(trainer.n_runs, -1)


def _poison_log_variance(trainer: Trainer, run: int, value: float = -100.0) -> None:
    """Make run ``run``'s encoder give log-variances near ``value`` (its bias): MMD trains on, but the
    GJS precision exp(-logvar) overflows to infinity for such a posterior."""
    d = trainer.cfg.latent_dim
    with torch.no_grad():
        trainer.params["encoder.mu_logvar.bias"][run, d:] = value  # shares storage with the leaves


def _trajectory(trainer: Trainer) -> list[dict]:
    """What a run computes: its alpha and loss histories and its test metrics."""
    return [
        {"alpha": h.alpha, "train_loss": h.train_loss, **ev}
        for h, ev in zip(trainer.histories, trainer.evaluate())
    ]


# ------------------------------------------------------------------------------- no waiting on the device
@pytest.mark.parametrize("regularisers", [("tdgjs",), ("tdgjs", "mmd", "kl")], ids=["one run", "group"])
def test_a_training_step_never_reads_from_the_device(data_root, regularisers) -> None:
    configs = [
        TrainConfig(regulariser=r, seed=i, alpha_every=1, **{**TINY, "landscape_points": 0})
        for i, r in enumerate(regularisers)
    ]
    trainer = Trainer(configs, META)
    assert trainer.check_every == DEFAULT_CHECK_EVERY
    # the skew's Adam counts its steps on the CPU, as torch.optim.Adam does; the fused one on the device
    assert {t.device.type for t in trainer.alpha_opt.steps} == {"cpu"}
    assert {t.device.type for t in trainer.model_opt.steps} == {"meta"}
    with DeviceReads() as counter:
        for s in range(3):
            trainer._train_step(_batch_index(trainer), s)
    assert counter.reads == []  # before this issue: 2 a step (the finiteness check, the skew's Adam)
    assert trainer.step == 3 and len(trainer._alpha_marks) == 3  # alpha kept on the device until read


def test_an_epoch_reads_from_the_device_only_at_its_end(data_root) -> None:
    def reads_in_one_epoch(steps: int) -> list[str]:
        config = TrainConfig(regulariser="tgjs", alpha_every=2, **{**TINY, "subset": 32 * steps})
        # two epochs planned and no record epochs: this epoch evaluates nothing (records read the device)
        trainer = Trainer([replace(config, landscape_points=0, epochs=2)], META)
        trainer.record_epochs = ()
        with DeviceReads() as counter:
            trainer.train_epoch(show_progress=False)
        assert trainer.epoch == 1 and len(trainer.histories[0].alpha_steps) == steps // 2
        return counter.reads

    short, long = reads_in_one_epoch(4), reads_in_one_epoch(8)
    assert long == short and len(short) == 4  # alpha marks, finiteness, alpha and loss of the epoch


def test_a_grid_group_trains_and_evaluates_on_meta(data_root) -> None:
    paper = EXPERIMENTS["benchmarks"]("paper", datasets=("mnist",), figure1=False)
    small = [replace(c, epochs=1, subset=128, test_subset=64, landscape_images=16) for c in paper]
    group = grid._groups(small, 16)[0]
    assert len(group) == 16 and len({c.regulariser for c in group}) > 1  # several regularisers at once
    trainer = Trainer(group, META)
    with DeviceReads():
        trainer.train_epoch(show_progress=False)
        metrics = trainer.evaluate()
    assert len(metrics) == 16 and all(len(h.landscape) == 1 for h in trainer.histories)
    assert trainer.params["decoder.deconvs.0.weight"].shape[0] == 16


# ------------------------------------------------------------------------------- where tensors live
def test_a_cuda_trainer_keeps_its_tensors_on_cuda_under_fake_tensors(data_root, monkeypatch) -> None:
    from torch._subclasses.fake_tensor import FakeTensorMode

    # a CUDA generator needs a driver even under fake tensors; CPU ones stand in for the draws
    monkeypatch.setattr(
        trainer_module, "_seeded", lambda seed, stream, device: torch.Generator().manual_seed(seed + stream)
    )
    configs = [TrainConfig(regulariser=r, seed=i, noise=0.1, **TINY) for i, r in enumerate(("tdgjs", "mmd"))]
    trainer_module.data.load_images("mnist", "train", subset=96)  # cached outside the fake mode
    with FakeTensorMode(allow_non_fake_inputs=True):
        trainer = Trainer(configs, torch.device("cuda"))
        x, target, eps, prior = trainer._draw_batch(_batch_index(trainer))
        loss, div = trainer._batch_loss(x, target, eps, prior)
    on = {name: t.device.type for name, t in {"x": x, "eps": eps, "prior": prior, "loss": loss}.items()}
    assert on == {"x": "cuda", "eps": "cuda", "prior": "cuda", "loss": "cuda"}
    assert {t.device.type for t in [*trainer.leaves.values(), trainer.alpha, trainer.train_x]} == {"cuda"}
    assert {t.device.type for t in trainer.model_opt.exp_avg + trainer.model_opt.steps} == {"cuda"}
    assert {t.device.type for t in trainer.alpha_opt.steps} == {"cpu"}  # read by .item(): never a GPU's
    assert trainer.check_every == DEFAULT_CHECK_EVERY and loss.shape == div.shape == (2,)


# ------------------------------------------------------------------------------- no NaN between runs
def test_grouped_runs_cannot_turn_each_other_nan(data_root) -> None:
    """An MMD run whose log-variances sit near -100 trains with a finite loss, alone or grouped;
    but the GJS regulariser of the same group overflows on its posterior (exp(100) in float32). Before
    the fix the group computed every regulariser for every run, and the unused GJS branch's backward
    pass turned the MMD run's gradients NaN: the whole group then diverged at its second step."""
    configs = [
        TrainConfig(regulariser="mmd", seed=1, **TINY),
        TrainConfig(regulariser="tdgjs", alpha0=0.2, seed=0, **TINY),
        TrainConfig(regulariser="kl", seed=2, **TINY),
    ]
    logvar = torch.full((4, 10), -100.0)
    assert not torch.isfinite(gjs_normal(torch.zeros(4, 10), logvar, 0.5)).all()  # the unused branch

    together = Trainer(configs, "cpu")
    _poison_log_variance(together, 0)
    together.train_epoch(show_progress=False)
    assert all(bool(torch.isfinite(v).all()) for v in together.params.values())
    grouped = _trajectory(together)
    for run, cfg in enumerate(configs):
        alone = Trainer([cfg], "cpu")
        if run == 0:
            _poison_log_variance(alone, 0)
        alone.train_epoch(show_progress=False)
        (single,) = _trajectory(alone)
        np.testing.assert_allclose(grouped[run]["alpha"], single["alpha"], atol=1e-6)
        np.testing.assert_allclose(grouped[run]["train_loss"], single["train_loss"], rtol=1e-5)
        for metric in ("test_mse", "rate", "train_mse"):
            assert grouped[run][metric] == pytest.approx(single[metric], rel=1e-4), (cfg.regulariser, metric)


def test_a_nan_run_still_stops_its_group_naming_epoch_and_step(data_root, monkeypatch) -> None:
    trainer = Trainer(
        [TrainConfig(regulariser=r, seed=i, **TINY) for i, r in enumerate(("kl", "mmd"))], "cpu"
    )
    trainer.check_every = 10  # as on a GPU: the record is read after the step, at the epoch's end here
    original = trainer._batch_loss
    calls = {"n": 0}

    def poisoned(*args):
        loss, div = original(*args)
        calls["n"] += 1
        return (loss * torch.tensor([1.0, float("inf")]) if calls["n"] == 2 else loss), div

    monkeypatch.setattr(trainer, "_batch_loss", poisoned)
    with pytest.raises(TrainingDiverged, match=r"loss became inf at epoch 1, step 2 \(run 1: mmd, seed 1\)"):
        trainer.train_epoch(show_progress=False)
    assert calls["n"] == 3 and trainer.epoch == 0  # ran on to the read, then stopped before the epoch ended


# ------------------------------------------------------------------------------- checkpoints across devices
def _checkpoint_from_another_device(trainer: Trainer, path: Path, monkeypatch) -> None:
    """Write ``trainer``'s checkpoint as a CUDA run would: device "cuda", 16-byte (Philox) streams."""
    state = trainer.state_dict()
    philox = torch.zeros(16, dtype=torch.uint8)
    state.update(device="cuda", shuffle_gens=[philox], noise_gens=[philox])
    monkeypatch.setattr(trainer, "state_dict", lambda: state)
    trainer.save_checkpoint(path)


def test_a_checkpoint_from_another_device_is_refused_in_one_line(
    data_root, tmp_path, monkeypatch, capsys
) -> None:
    argv = ["--regulariser", "kl", "--subset", "96", "--test-subset", "64", "--batch-size", "32",
            "--epochs", "2", "--quiet", "--device", "cpu", "--out", str(tmp_path)]  # fmt: skip
    config = TrainConfig(regulariser="kl", subset=96, test_subset=64, batch_size=32, epochs=2)
    _checkpoint_from_another_device(Trainer([config], "cpu"), tmp_path / "checkpoint.pt", monkeypatch)
    before = (tmp_path / "checkpoint.pt").read_bytes()
    with pytest.raises(SystemExit) as exit_info:
        train.main([*argv, "--resume"])
    err = capsys.readouterr().err.splitlines()
    assert exit_info.value.code == 2 and len(err) == 1, err
    assert "was written on cuda and this run trains on cpu" in err[0] and "--device cuda" in err[0]
    assert "corrupt" not in err[0] and (tmp_path / "checkpoint.pt").read_bytes() == before  # left alone
    assert not (tmp_path / "checkpoint.pt.corrupt").exists()


# ------------------------------------------------------------------------------- the reproducibility switch
@pytest.fixture
def backend_settings():
    """Restores the process-wide settings :func:`set_determinism` changes."""
    cudnn = torch.backends.cudnn
    saved = (cudnn.deterministic, cudnn.benchmark, cudnn.allow_tf32, torch.get_float32_matmul_precision())
    algorithms, workspace = (
        torch.are_deterministic_algorithms_enabled(),
        os.environ.get("CUBLAS_WORKSPACE_CONFIG"),
    )
    yield
    cudnn.deterministic, cudnn.benchmark, cudnn.allow_tf32 = saved[:3]
    torch.set_float32_matmul_precision(saved[3])
    torch.use_deterministic_algorithms(algorithms)
    if workspace is None:
        os.environ.pop("CUBLAS_WORKSPACE_CONFIG", None)
    else:
        os.environ["CUBLAS_WORKSPACE_CONFIG"] = workspace


def test_the_reproducibility_switch_sets_ieee_precision_and_deterministic_kernels(backend_settings) -> None:
    set_determinism(True)
    cudnn = torch.backends.cudnn
    assert cudnn.deterministic and not cudnn.benchmark and not cudnn.allow_tf32
    assert not torch.backends.cuda.matmul.allow_tf32 and torch.get_float32_matmul_precision() == "highest"
    assert torch.are_deterministic_algorithms_enabled() and os.environ["CUBLAS_WORKSPACE_CONFIG"]
    set_determinism(False)
    assert cudnn.benchmark and not cudnn.deterministic and not torch.are_deterministic_algorithms_enabled()


def test_the_switch_changes_nothing_a_cpu_run_computes(data_root, backend_settings) -> None:
    config = TrainConfig(regulariser="tdgjs", alpha0=0.3, seed=4, noise=0.1, **TINY)
    (plain,), _ = train.fit([config], "cpu", show_progress=False)
    (strict,), _ = train.fit([config], "cpu", show_progress=False, deterministic=True)
    assert strict["deterministic"] and not plain["deterministic"]
    for key in ("alpha_history", "train_loss", "test_mse", "rate", "landscape"):
        assert strict[key] == plain[key], key


# ------------------------------------------------------------------------------- the grid
def test_run_grid_and_the_command_line_share_one_default_group_size(
    data_root, tmp_path, monkeypatch, backend_settings
) -> None:
    sizes = []
    monkeypatch.setattr(grid, "_groups", lambda configs, size: sizes.append(size) or [])
    grid.run_grid([TrainConfig(**TINY)], tmp_path, "cpu", show_progress=False)
    grid.main(
        ["--preset", "smoke", "--datasets", "mnist", "--device", "cpu", "--quiet", "--out", str(tmp_path)]
    )
    assert sizes == [grid.default_group_size("cpu")] * 2 == [1, 1]


def test_the_grid_frees_a_group_before_building_the_next(data_root, tmp_path, monkeypatch) -> None:
    previous: list[weakref.ref] = []
    alive_at_start = []
    real_fit = grid.fit

    def fit(*args, **kwargs):
        alive_at_start.append(any(ref() is not None for ref in previous))
        metrics, trainer = real_fit(*args, **kwargs)
        previous.append(weakref.ref(trainer))
        return metrics, trainer

    monkeypatch.setattr(grid, "fit", fit)
    configs = [
        TrainConfig(regulariser=r, seed=i, **{**TINY, "subset": 32}) for i, r in enumerate(("kl", "beta"))
    ]
    assert grid.run_grid(configs, tmp_path, "cpu", group_size=1, show_progress=False) == 2
    assert alive_at_start == [False, False]


# ------------------------------------------------------------------------------- on a GPU, for real
CUDA_RUN = dict(epochs=2, subset=256, test_subset=128, batch_size=64, landscape_images=64, landscape_points=5)
CUDA_GROUP = [
    TrainConfig(regulariser="tdgjs", alpha0=0.2, seed=0, **CUDA_RUN),
    TrainConfig(regulariser="mmd", seed=1, **CUDA_RUN),
    TrainConfig(regulariser="tgjs", alpha0=0.9, seed=2, **CUDA_RUN),
    TrainConfig(regulariser="beta", seed=3, **CUDA_RUN),
]
SAME = ("alpha_history", "train_loss", "test_mse", "rate", "train_mse", "landscape")


@pytest.mark.cuda
@needs_cuda
def test_cuda_training_steps_never_synchronise(data_root) -> None:
    trainer = Trainer(CUDA_GROUP, "cuda")
    for s in range(2):  # first calls: cuDNN and the caching allocator set up
        trainer._train_step(_batch_index(trainer), s)
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        with DeviceReads() as counter:
            for s in range(2, 6):
                trainer._train_step(_batch_index(trainer), s)
    finally:
        torch.cuda.set_sync_debug_mode("default")
    assert counter.reads == []


@pytest.mark.cuda
@needs_cuda
def test_cuda_deterministic_runs_repeat_bit_for_bit(data_root, backend_settings) -> None:
    first, _ = train.fit(CUDA_GROUP[:2], "cuda", show_progress=False, deterministic=True)
    second, _ = train.fit(CUDA_GROUP[:2], "cuda", show_progress=False, deterministic=True)
    for a, b in zip(first, second):
        assert a["deterministic"] and all(a[k] == b[k] for k in SAME)


@pytest.mark.cuda
@needs_cuda
def test_cuda_trained_together_equals_trained_alone(data_root, backend_settings) -> None:
    together, _ = train.fit(CUDA_GROUP, "cuda", show_progress=False, deterministic=True)
    for cfg, grouped in zip(CUDA_GROUP, together):
        (alone,), _ = train.fit([cfg], "cuda", show_progress=False, deterministic=True)
        assert grouped["test_mse"] == pytest.approx(alone["test_mse"], rel=1e-4)
        assert grouped["rate"] == pytest.approx(alone["rate"], rel=1e-3, abs=1e-4)
        np.testing.assert_allclose(grouped["alpha_history"] or [0], alone["alpha_history"] or [0], atol=1e-6)


@pytest.mark.cuda
@needs_cuda
def test_cuda_grouped_runs_cannot_turn_each_other_nan(data_root) -> None:
    together = Trainer(CUDA_GROUP, "cuda")
    _poison_log_variance(together, 1)  # the MMD run
    together.train_epoch(show_progress=False)
    assert all(bool(torch.isfinite(v).all()) for v in together.params.values())


@pytest.mark.cuda
@needs_cuda
def test_cuda_plain_loop_runs_and_matches_the_fast_trainer(data_root, backend_settings) -> None:
    from alphavae_core.experiments.baseline import train_plain

    set_determinism(True)
    config = TrainConfig(regulariser="tdgjs", alpha0=0.3, seed=4, epochs=2, subset=256, test_subset=64)
    (fast,), _ = train.fit([config], "cuda", show_progress=False)
    plain = train_plain(config, "cuda")
    np.testing.assert_allclose(fast["alpha_history"], plain["alpha_history"], atol=1e-5)


@pytest.mark.cuda
@needs_cuda
def test_cuda_resume_of_a_cpu_checkpoint_is_refused_in_one_line(data_root, tmp_path) -> None:
    config = replace(CUDA_GROUP[0], epochs=2)
    Trainer([config], "cpu").save_checkpoint(tmp_path / "checkpoint.pt")
    with pytest.raises(ValueError, match="was written on cpu and this run trains on cuda") as err:
        train.fit([config], "cuda", out=tmp_path, resume=True, show_progress=False)
    assert "\n" not in str(err.value)
    half = Trainer([config], "cuda")  # and a CUDA checkpoint continues on CUDA
    half.train_epoch(show_progress=False)
    half.save_checkpoint(tmp_path / "checkpoint.pt")
    (resumed,), _ = train.fit([config], "cuda", out=tmp_path, resume=True, show_progress=False)
    assert resumed["epochs_trained"] == 2
