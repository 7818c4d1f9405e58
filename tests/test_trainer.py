"""The Table 2 networks, the regularisers, the two-optimiser trainer and its equivalences."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from alphavae_core.adam import Adam
from alphavae_core.config import TrainConfig
from alphavae_core.data import DATASETS
from alphavae_core.experiments.baseline import train_plain
from alphavae_core.experiments.train import fit
from alphavae_core.losses import REGULARISERS, TABLE1_REGULARISERS, get_regulariser, mmd, reconstruction_loss
from alphavae_core.model import VAE, FastConvTranspose, build_vae, vae_forward
from alphavae_core.trainer import Trainer, TrainingDiverged

TINY = dict(epochs=1, subset=96, test_subset=64, batch_size=32, landscape_images=16, landscape_points=5)


# ------------------------------------------------------------------------------- model
@pytest.mark.parametrize("channels,size", [(1, 32), (1, 64), (3, 64)])
def test_table2_shapes(channels: int, size: int) -> None:
    vae = VAE(channels, size, latent_dim=10)
    convs = [m for m in vae.encoder.convs if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) == (3 if size == 32 else 4)
    assert all(c.out_channels == 32 and c.kernel_size == (4, 4) and c.stride == (2, 2) for c in convs)
    logits, mu, logvar, z = vae(torch.rand(5, channels, size, size), torch.randn(5, 10))
    assert logits.shape == (5, channels, size, size) and mu.shape == logvar.shape == z.shape == (5, 10)


def test_kaiming_uniform_init_and_default_biases() -> None:
    vae = build_vae((1, 32, 32), 10, seed=0)
    lin = vae.encoder.fc[0]  # 512 -> 256
    bound = math.sqrt(2.0) * math.sqrt(3.0 / lin.in_features)  # ReLU gain, uniform
    assert lin.weight.abs().max() <= bound and lin.weight.abs().max() > 0.9 * bound
    assert lin.bias.abs().max() <= 1.0 / math.sqrt(lin.in_features)  # PyTorch's default bias
    assert torch.equal(build_vae((1, 32, 32), 10, 0).encoder.fc[0].weight, lin.weight)  # seed alone decides


@pytest.mark.parametrize(("c_in", "c_out", "size"), [(32, 1, 16), (32, 3, 32), (5, 4, 3)])
def test_fast_transposed_convolution_equals_torch(c_in: int, c_out: int, size: int) -> None:
    gen = torch.Generator().manual_seed(c_out)
    x = torch.randn(6, c_in, size, size, generator=gen, dtype=torch.float64, requires_grad=True)
    w = torch.randn(c_in, c_out, 4, 4, generator=gen, dtype=torch.float64, requires_grad=True)
    b = torch.randn(c_out, generator=gen, dtype=torch.float64, requires_grad=True)
    ours, ref = FastConvTranspose.apply(x, w, b), F.conv_transpose2d(x, w, b, stride=2, padding=1)
    assert ours.shape == (6, c_out, 2 * size, 2 * size)
    torch.testing.assert_close(ours, ref, rtol=1e-12, atol=1e-12)
    assert torch.autograd.gradcheck(
        FastConvTranspose.apply, (x[:2, :, :3, :3].detach().requires_grad_(), w, b)
    )


@pytest.mark.parametrize("image_shape", [(1, 32, 32), (3, 64, 64)])
def test_functional_forward_equals_the_modules(image_shape: tuple[int, int, int]) -> None:
    model = build_vae(image_shape, 10, seed=2)
    params = dict(model.named_parameters())
    x = torch.rand(5, *image_shape, generator=torch.Generator().manual_seed(0))
    eps = torch.randn(5, 10, generator=torch.Generator().manual_seed(1))
    reference = model(x, eps)
    for fast in (True, False):
        outputs = vae_forward(params, x, eps, fast=fast)
        for ours, ref in zip(outputs, reference):
            torch.testing.assert_close(ours, ref, rtol=1e-5, atol=1e-5)
        grads = torch.autograd.grad(outputs[0].square().mean(), list(params.values()))
        ref_grads = torch.autograd.grad(
            reference[0].square().mean(), list(params.values()), retain_graph=True
        )
        for ours, ref in zip(grads, ref_grads):
            torch.testing.assert_close(ours, ref, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("fused", [True, False])
def test_adam_follows_torch_optim_adam_exactly(fused: bool) -> None:
    gen = torch.Generator().manual_seed(0)
    ours = [torch.randn(4, 3, generator=gen).requires_grad_(), torch.randn(5, generator=gen).requires_grad_()]
    theirs = [p.detach().clone().requires_grad_() for p in ours]
    opt, reference = Adam(ours, lr=0.01, fused=fused), torch.optim.Adam(theirs, lr=0.01, fused=fused)
    for step in range(5):
        for mine, ref in zip(ours, theirs):
            grad = torch.randn(mine.shape, generator=gen)
            mine.grad, ref.grad = grad.clone(), grad.clone()
        if step == 3:  # a parameter without a gradient is left alone, as torch.optim does
            ours[1].grad = theirs[1].grad = None
        opt.step()
        reference.step()
        for mine, ref in zip(ours, theirs):
            assert torch.equal(mine, ref)
    restored = Adam([p.detach().clone().requires_grad_() for p in ours], lr=0.5)
    restored.load_state_dict(opt.state_dict())
    assert restored.lr == 0.01 and all(torch.equal(a, b) for a, b in zip(restored.exp_avg_sq, opt.exp_avg_sq))


def test_mean_latent_without_noise() -> None:
    vae = build_vae((1, 32, 32), 10, seed=0)
    x = torch.rand(4, 1, 32, 32)
    _, mu, _, z = vae(x)
    assert torch.equal(z, mu)


# ------------------------------------------------------------------------------- losses
def test_reconstruction_losses_against_torch() -> None:
    logits, target = torch.randn(3, 1, 8, 8), torch.rand(3, 1, 8, 8)
    mse = F.mse_loss(torch.sigmoid(logits), target, reduction="none").sum((1, 2, 3))
    bce = F.binary_cross_entropy(torch.sigmoid(logits), target, reduction="none").sum((1, 2, 3))
    assert torch.allclose(reconstruction_loss(logits, target, "mse"), mse)
    assert torch.allclose(reconstruction_loss(logits, target, "bernoulli"), bce, atol=1e-4)
    with pytest.raises(ValueError, match="unknown reconstruction 'l1'"):
        reconstruction_loss(logits, target, "l1")


def test_mmd_against_numpy() -> None:
    gen = torch.Generator().manual_seed(0)
    x, y = (
        torch.randn(7, 3, generator=gen, dtype=torch.float64),
        torch.randn(5, 3, generator=gen, dtype=torch.float64),
    )

    def k(a, b):
        return np.exp(-((a[:, None] - b[None]) ** 2).sum(-1) / 3)

    xn, yn = x.numpy(), y.numpy()
    kxx, kyy = k(xn, xn), k(yn, yn)
    expected = (
        (kxx.sum() - np.trace(kxx)) / 42 + (kyy.sum() - np.trace(kyy)) / 20 - 2 * k(xn, yn).mean()
    )  # unbiased U-statistic
    assert mmd(x, y).item() == pytest.approx(expected, rel=1e-12)


def test_registry_and_defaults() -> None:
    assert set(TABLE1_REGULARISERS) | {"fwdkl"} <= set(REGULARISERS)
    assert get_regulariser("beta").default_weight == 4.0 and get_regulariser("mmd").default_weight == 500.0
    assert get_regulariser("tdgjs").trainable_skew and not get_regulariser("dgjs").trainable_skew
    with pytest.raises(ValueError, match="unknown regulariser 'elbo'"):
        get_regulariser("elbo")


@pytest.mark.parametrize(
    "kwargs,message",
    [
        (dict(dataset="cifar"), "unknown dataset 'cifar'"),
        (dict(regulariser="elbo"), "unknown regulariser"),
        (dict(regulariser="tgjs", alpha0=1.5), "alpha0 must lie in \\[0, 1\\], got 1.5"),
        (dict(regulariser="tgjs", alpha0=float("nan")), "got nan"),
        (dict(regulariser="kl", alpha0=0.3), "skewed regularisers only"),
        (dict(batch_size=0), "batch size must be positive"),
        (dict(epochs=-1), "epochs must be positive"),
        (dict(lr=-1e-4), "lr must be a positive number"),
    ],
)
def test_config_rejects_bad_values(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TrainConfig(**kwargs)


# ------------------------------------------------------------------------------- training
@pytest.mark.slow
@pytest.mark.parametrize("dataset", DATASETS)
def test_every_regulariser_trains_on_every_dataset(data_root, dataset: str) -> None:
    configs = [
        TrainConfig(dataset=dataset, regulariser=r, seed=i, **TINY) for i, r in enumerate(REGULARISERS)
    ]
    metrics, trainer = fit(configs, "cpu", show_progress=False)
    for cfg, m in zip(configs, metrics):
        assert math.isfinite(m["test_mse"]) and m["test_mse"] > 0 and m["rate"] >= 0, cfg.regulariser
        assert len(m["landscape"]) == 1 and len(m["landscape"][0]["dual"]) == 5
        if get_regulariser(cfg.regulariser).trainable_skew:
            assert m["alpha"] != 0.5 and 0.0 <= m["alpha"] <= 1.0  # it moved, and stayed in range
        elif get_regulariser(cfg.regulariser).uses_skew:
            assert m["alpha"] == 0.5  # fixed skew never moves
        else:
            assert m["alpha"] is None
    assert trainer.test_x.shape[1:] == configs[0].image_shape


def test_training_together_equals_training_alone(data_root) -> None:
    configs = [
        TrainConfig(regulariser="tdgjs", alpha0=0.2, seed=0, **TINY),
        TrainConfig(regulariser="mmd", seed=1, **TINY),
        TrainConfig(regulariser="tgjs", alpha0=0.9, seed=2, noise=0.0, **TINY),
    ]
    together, _ = fit(configs, "cpu", show_progress=False)
    for cfg, grouped in zip(configs, together):
        (alone,), _ = fit([cfg], "cpu", show_progress=False)
        assert grouped["test_mse"] == pytest.approx(alone["test_mse"], rel=1e-4)
        assert grouped["rate"] == pytest.approx(alone["rate"], rel=1e-3, abs=1e-4)
        np.testing.assert_allclose(grouped["alpha_history"] or [0], alone["alpha_history"] or [0], atol=1e-6)


def test_fast_trainer_matches_the_plain_dataloader_loop(data_root) -> None:
    cfg = TrainConfig(
        regulariser="tdgjs", alpha0=0.3, seed=4, epochs=2, subset=160, test_subset=64, batch_size=32
    )
    (fast,), trainer = fit([cfg], "cpu", show_progress=False)
    plain = train_plain(cfg, "cpu")
    np.testing.assert_allclose(fast["alpha_history"], plain["alpha_history"], atol=1e-6)
    fast_weights = trainer.params["decoder.deconvs.0.weight"][0]
    assert torch.allclose(fast_weights, plain["model"].decoder.deconvs[0].weight, atol=1e-5)


def test_same_seed_gives_identical_metrics(data_root) -> None:
    cfg = TrainConfig(regulariser="tgjs", seed=3, noise=0.2, **TINY)
    (a,), _ = fit([cfg], "cpu", show_progress=False)
    (b,), _ = fit([cfg], "cpu", show_progress=False)
    assert a["test_mse"] == b["test_mse"] and a["alpha_history"] == b["alpha_history"]


def test_resume_reaches_the_uninterrupted_result(data_root, tmp_path) -> None:
    cfg = TrainConfig(regulariser="tdgjs", seed=5, **{**TINY, "epochs": 2})
    (straight,), _ = fit([cfg], "cpu", show_progress=False)
    half = Trainer([cfg], "cpu")
    half.train_epoch(show_progress=False)
    half.save_checkpoint(tmp_path / "checkpoint.pt")
    (resumed,), _ = fit([cfg], "cpu", out=tmp_path, resume=True, show_progress=False)
    assert (
        resumed["test_mse"] == straight["test_mse"] and resumed["alpha_history"] == straight["alpha_history"]
    )
    with pytest.raises(ValueError, match="pass --resume"):
        fit([cfg], "cpu", out=tmp_path, show_progress=False)


def test_checkpoint_of_other_settings_or_corrupt_is_refused(data_root, tmp_path) -> None:
    trainer = Trainer([TrainConfig(regulariser="kl", **TINY)], "cpu")
    trainer.save_checkpoint(tmp_path / "checkpoint.pt")
    with pytest.raises(ValueError, match="written for other settings"):
        fit([TrainConfig(regulariser="beta", **TINY)], "cpu", out=tmp_path, resume=True)
    raw = (tmp_path / "checkpoint.pt").read_bytes()
    (tmp_path / "checkpoint.pt").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ValueError, match="unreadable"):  # fit sets it aside and retrains (test_reliability)
        Trainer([TrainConfig(regulariser="kl", **TINY)], "cpu").load_checkpoint(tmp_path / "checkpoint.pt")


def test_nan_loss_stops_with_epoch_and_step(data_root, monkeypatch) -> None:
    trainer = Trainer([TrainConfig(regulariser="kl", **{**TINY, "epochs": 2})], "cpu")
    trainer.train_epoch(show_progress=False)
    original = trainer._batch_loss
    calls = {"n": 0}

    def poisoned(*args):
        loss, div = original(*args)
        calls["n"] += 1
        return (loss * float("nan") if calls["n"] == 2 else loss), div

    monkeypatch.setattr(trainer, "_batch_loss", poisoned)
    with pytest.raises(TrainingDiverged, match="at epoch 2, step 2"):
        trainer.train_epoch(show_progress=False)
