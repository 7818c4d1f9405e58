"""The fast two-optimiser trainer: one or many VAEs trained at once on in-memory data.

Section 4 of the paper trains the skew "as another parameter of the model, but use[s] a separate
optimiser": here the network has one Adam and alpha another, both stepped on the same loss (the
model's first), and alpha is clamped to [0, 1] after every step.

Speed. The dataset lives on the training device as one uint8 tensor and is batched by index (no
per-sample Python, no DataLoader). Several runs of the same architecture (regularisers x seeds x
alpha0) train together: their parameters are stacked and the forward pass is vectorised with
``torch.func.vmap`` (convolutions become grouped convolutions). Adam is element-wise, so one Adam
over stacked parameters is exactly one independent Adam per run; each run also has its own data
order and noise generators, so training runs together equals training them one by one.

On a GPU. A training step never waits for the device: whether each run's loss stayed finite is
recorded on the device and read every ``DEFAULT_CHECK_EVERY`` steps and at each epoch's end (so a
diverged run is still named with its epoch and step, and no checkpoint is written after it); the
skew's Adam keeps its step count on the CPU, as ``torch.optim.Adam`` does; epoch timing waits for
the device only at the epoch's ends. A grouped run's unused regularisers see harmless inputs, so
one run's extreme posterior cannot turn another branch, and through it the group, into NaN.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor
from torch.func import stack_module_state, vmap

from . import data
from .adam import Adam
from .config import TrainConfig, resolve_device, set_determinism
from .divergences import gjs_normal, kl_normal
from .errors import CorruptCheckpoint
from .losses import Inputs, get_regulariser, reconstruction_loss
from .model import build_vae, encode, sub_params, vae_forward
from .progress import progress

CHECKPOINT_VERSION = 3  # 2: payload wrapped with its sha256; 3: optimizer state of .adam.Adam
# training images (the first ones) that train_mse and train_rate average over (Figure 7)
TRAIN_EVAL_IMAGES = 10_000
EVAL_CHUNK = 128  # test images per forward pass: 0.33 s for 10,000 here; 500 took 0.9 s (cache misses)
# steps between reads of the on-device finiteness record: a read waits for the device, so a GPU reads it
# rarely; on the CPU a read costs nothing and a diverged run stops at once
CHECK_EVERY = {"cpu": 1}
DEFAULT_CHECK_EVERY = 100
POSTFIX_EVERY = 50  # steps between progress-bar updates of the loss and alpha
# epochs after which every run records its metrics on the way (those it reaches, and its last one): evaluation reads the
# weights and draws from no training stream, so recording leaves training exactly as it was
RECORD_EPOCHS = (1, 2, 5, 10, 20, 50, 100)
_CPU_STREAM_BYTES = torch.Generator().get_state().numel()


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; the last good checkpoint is kept."""


@dataclass
class RunHistory:
    """What is recorded while one run trains."""

    alpha: list[float] = field(default_factory=list)  # at the start and after every epoch
    alpha_steps: list[tuple[int, float]] = field(default_factory=list)  # (step, alpha) every N steps
    train_loss: list[float] = field(default_factory=list)  # mean training loss per epoch
    landscape: list[dict[str, list[float]]] = field(default_factory=list)  # per epoch, primal and dual
    # at each of the trainer's ``record_epochs``: {"epoch", test_mse, rate, train_mse, train_rate, "alpha"}
    records: list[dict[str, float | int | None]] = field(default_factory=list)


def _seeded(seed: int, stream: int, device: torch.device) -> torch.Generator:
    # distinct streams for data order and for noise, each a function of the run's seed alone
    return torch.Generator(device=generator_device(device)).manual_seed(seed * 1_000_003 + stream)


def generator_device(device: torch.device) -> torch.device:
    """Where the random streams of a run on ``device`` live: on the device itself, except on ``meta``
    (shapes without data, used to check the GPU code path without a GPU), which has no generators."""
    return torch.device("cpu") if device.type == "meta" else device


class Trainer:
    """Trains the runs in ``configs`` together; they must share :meth:`TrainConfig.group_key`.

    ``params`` holds every run's parameters stacked along a first axis of length ``n_runs`` (read
    it for evaluation and checkpoints); ``leaves`` are the tensors the optimiser updates: the same
    stacked tensors for several runs, the run's own unstacked tensors (sharing that storage) for one.
    """

    def __init__(
        self,
        configs: list[TrainConfig],
        device: str | torch.device = "auto",
        deterministic: bool | None = None,
    ) -> None:
        """``deterministic``: see :func:`.config.set_determinism` (``None`` leaves PyTorch's settings alone)."""
        if not configs:
            raise ValueError("no configurations to train")
        if deterministic is not None:
            set_determinism(deterministic)
        self.configs = [c.resolved() for c in configs]
        if len({c.group_key() for c in self.configs}) != 1:
            raise ValueError("runs trained together must share dataset, schedule and architecture")
        self.device = device if isinstance(device, torch.device) else resolve_device(device)
        cfg = self.cfg = self.configs[0]
        self.n_runs = len(self.configs)
        self.regularisers = [get_regulariser(c.regulariser) for c in self.configs]

        self.train_x = data.load_images(cfg.dataset, "train", subset=cfg.subset).to(self.device)
        self.test_x = data.load_images(cfg.dataset, "test", subset=cfg.test_subset).to(self.device)
        self.test_input = self.test_x
        if cfg.noise > 0:  # denoising: the test noise is fixed by seed, the target stays clean
            self.test_noise = data.fixed_test_noise(tuple(self.test_x.shape), cfg.noise, seed=0).to(
                self.device
            )

        models = [build_vae(cfg.image_shape, cfg.latent_dim, c.seed) for c in self.configs]
        params, _ = stack_module_state(models)
        stacked = {k: v.detach().to(self.device) for k, v in params.items()}
        if self.n_runs == 1:  # train the run's own tensors: indexing stacked ones costs a copy per step
            self.leaves = {k: v[0].clone().requires_grad_() for k, v in stacked.items()}
            self.params = {k: v.detach().unsqueeze(0) for k, v in self.leaves.items()}  # same storage
        else:
            self.leaves = self.params = {k: v.requires_grad_() for k, v in stacked.items()}
        alpha0 = [0.0 if c.alpha0 is None else c.alpha0 for c in self.configs]  # unused without skew
        self.alpha = torch.tensor(alpha0, dtype=torch.float32, device=self.device, requires_grad=True)
        self.weight = torch.tensor([c.weight for c in self.configs], device=self.device)
        # FastConvTranspose fixes a slow oneDNN kernel; vmap cannot batch it, and cuDNN needs no fix
        self.fast_layers = self.n_runs == 1 and self.device.type == "cpu"
        self.trainable = torch.tensor([r.trainable_skew for r in self.regularisers], device=self.device)
        names = sorted({r.name for r in self.regularisers})
        self.kinds = [get_regulariser(n) for n in names]
        self.kind_index = torch.tensor([names.index(r.name) for r in self.regularisers], device=self.device)

        # fused Adam: the same update, in one kernel per step instead of several per tensor
        self.model_opt = Adam(list(self.leaves.values()), lr=cfg.lr, fused=True)
        self.alpha_opt = Adam([self.alpha], lr=cfg.alpha_lr)
        self.shuffle_gens = [_seeded(c.seed, 1, self.device) for c in self.configs]
        self.noise_gens = [_seeded(c.seed, 2, self.device) for c in self.configs]
        self.epoch = 0
        self.step = 0
        self.train_seconds = 0.0
        self.histories = [RunHistory(alpha=[a]) for a in alpha0]
        self.check_every = CHECK_EVERY.get(self.device.type, DEFAULT_CHECK_EVERY)
        self.record_epochs: tuple[int, ...] = RECORD_EPOCHS
        self._reset_records()

    def _reset_records(self) -> None:
        """The on-device records of the current epoch: per run, the first step (from 1) whose loss was
        not finite (0: none yet) and that loss; and alpha every ``alpha_every`` steps, not yet read."""
        self._first_bad = torch.zeros(self.n_runs, dtype=torch.long, device=self.device)
        self._bad_loss = torch.zeros(self.n_runs, device=self.device)
        self._alpha_marks: list[tuple[int, Tensor]] = []

    # ----------------------------------------------------------------- the loss of one run
    def _run_loss(
        self, params: dict[str, Tensor], alpha: Tensor, weight: Tensor, kind: Tensor,
        x: Tensor, target: Tensor, eps: Tensor, prior_draws: Tensor,
    ) -> tuple[Tensor, Tensor]:  # fmt: skip
        """Loss of one run on one batch (equation 14): mean reconstruction + weight * mean divergence."""
        logits, mu, logvar, z = vae_forward(params, x, eps, fast=self.fast_layers)
        recon = reconstruction_loss(logits, target, self.cfg.reconstruction).mean()
        if len(self.kinds) == 1:
            div = self.kinds[0].divergence(Inputs(mu, logvar, z, alpha, prior_draws)).mean()
        else:
            div = self._selected_divergence(kind, Inputs(mu, logvar, z, alpha, prior_draws))
        return recon + weight * div, div

    def _selected_divergence(self, kind: Tensor, inputs: Inputs) -> Tensor:
        """The divergence of regulariser ``self.kinds[kind]`` in a group of several kinds.

        Under vmap every run computes every kind; each kind but its own sees q = p (mu = logvar = z = 0),
        where every divergence is finite. Fed the run's own posterior, an unused kind could overflow (a
        very small variance is harmless to MMD but infinite in the GJS precision) and, although its value
        is never selected, the backward pass would multiply its zero gradient by that infinity: NaN
        weights for a run whose own loss was finite. The selected kind sees the run's exact inputs.
        """
        div = None
        for k, reg in enumerate(self.kinds):
            mine = kind == k
            safe = Inputs(
                torch.where(mine, inputs.mu, 0.0),
                torch.where(mine, inputs.logvar, 0.0),
                torch.where(mine, inputs.z, 0.0),
                inputs.alpha,
                inputs.prior_draws,
            )
            value = reg.divergence(safe).mean()
            div = value if div is None else torch.where(mine, value, div)
        return div

    def _batch_loss(self, x: Tensor, target: Tensor, eps: Tensor, prior: Tensor) -> tuple[Tensor, Tensor]:
        args = (self.alpha, self.weight, self.kind_index, x, target, eps, prior)
        if self.n_runs == 1:  # no vmap needed
            loss, div = self._run_loss(self.leaves, *(a[0] for a in args))
            return loss.unsqueeze(0), div.unsqueeze(0)
        return vmap(self._run_loss, randomness="error")(self.leaves, *args)

    # ----------------------------------------------------------------- training
    def _draw_batch(self, idx: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """Inputs, targets, reparameterisation noise and prior draws for a (runs, batch) index."""
        clean = data.to_float(self.train_x[idx])  # (M, B, C, H, W)
        b, d = idx.shape[1], self.cfg.latent_dim
        eps, prior, noisy = [], [], []
        for m, gen in enumerate(self.noise_gens):  # per-run generators: the same draws as alone
            eps.append(torch.randn(b, d, generator=gen, device=self.device))
            prior.append(torch.randn(b, 2 * d, generator=gen, device=self.device))
            if self.cfg.noise > 0:
                noisy.append(data.add_noise(clean[m], self.cfg.noise, generator=gen))
        x = torch.stack(noisy) if noisy else clean
        return x, clean, torch.stack(eps), torch.stack(prior)

    def train_epoch(self, show_progress: bool = True) -> None:
        """One pass over the training set for every run; :class:`TrainingDiverged` if a loss was not
        finite (raised at the next read of the record, at the latest before the epoch ends)."""
        n, bsz = self.train_x.shape[0], self.cfg.batch_size
        perms = torch.stack([torch.randperm(n, generator=g, device=self.device) for g in self.shuffle_gens])
        n_steps = math.ceil(n / bsz)
        total = torch.zeros(self.n_runs, device=self.device)
        self._reset_records()
        self._synchronize()
        start = time.perf_counter()
        quiet = {} if show_progress else {"disable": True}
        bar = progress(range(n_steps), desc=f"epoch {self.epoch + 1}", **quiet)
        shown = getattr(bar, "disable", True) is False
        next_postfix = 0
        for s in bar:
            loss = self._train_step(perms[:, s * bsz : (s + 1) * bsz], s)
            total += loss * min(bsz, n - s * bsz)
            if (s + 1) % self.check_every == 0 or s + 1 == n_steps:
                self._check_finite()
                if shown and s >= next_postfix:
                    bar.set_postfix(loss=f"{loss.mean().item():.2f}", alpha=f"{self.alpha.mean().item():.3f}")
                    next_postfix = s + POSTFIX_EVERY
        self._synchronize()
        self.train_seconds += time.perf_counter() - start
        self.epoch += 1
        for h, a, t in zip(self.histories, self.alpha.tolist(), (total / n).tolist()):
            h.alpha.append(a)
            h.train_loss.append(t)
        if self.cfg.landscape_points:
            for h, land in zip(self.histories, self.landscape()):
                h.landscape.append(land)
        if self.epoch in self.record_epochs or self.epoch == self.cfg.epochs:
            self.record()

    def record(self) -> None:
        """Append the current metrics of every run to its history's ``records``: exactly
        :meth:`evaluate`'s, as a run stopped here would report them, and alpha where it is learnt."""
        for h, reg, metrics, a in zip(
            self.histories, self.regularisers, self.evaluate(), self.alpha.tolist()
        ):
            h.records.append({"epoch": self.epoch, **metrics, "alpha": a if reg.trainable_skew else None})

    def _train_step(self, idx: Tensor, s: int) -> Tensor:
        """Step ``s`` (from 0) of the epoch on the (runs, batch) index ``idx``; returns the detached
        per-run losses. Nothing here waits for the device: no ``.item()``, ``bool()`` or ``tolist()``."""
        x, target, eps, prior = self._draw_batch(idx)
        loss, _ = self._batch_loss(x, target, eps, prior)
        self.model_opt.zero_grad()
        self.alpha_opt.zero_grad()
        loss.sum().backward()  # runs are independent, so each gets exactly its own gradient
        self.model_opt.step()
        if self.alpha.grad is not None:
            self.alpha.grad.mul_(self.trainable)  # fixed skews never move
            self.alpha_opt.step()
        with torch.no_grad():
            self.alpha.clamp_(0.0, 1.0)
        loss = loss.detach()
        first = (self._first_bad == 0) & ~torch.isfinite(loss)  # recorded on the device, read later
        self._first_bad = torch.where(first, s + 1, self._first_bad)
        self._bad_loss = torch.where(first, loss, self._bad_loss)
        self.step += 1
        if self.cfg.alpha_every and self.step % self.cfg.alpha_every == 0:
            self._alpha_marks.append((self.step, self.alpha.detach().clone()))
        return loss

    def _check_finite(self) -> None:
        """Read the epoch's records (one wait for the device): the alpha marks go to the histories, and
        the first run whose loss was not finite raises :class:`TrainingDiverged` naming epoch and step."""
        if self._alpha_marks:
            values = torch.stack([a for _, a in self._alpha_marks]).tolist()
            for (step, _), alphas in zip(self._alpha_marks, values):
                for h, a in zip(self.histories, alphas):
                    h.alpha_steps.append((step, a))
            self._alpha_marks = []
        first_bad = self._first_bad.tolist()
        if any(first_bad):
            bad = min((step, run) for run, step in enumerate(first_bad) if step)[1]
            raise TrainingDiverged(
                f"loss became {self._bad_loss[bad].item()} at epoch {self.epoch + 1}, step {first_bad[bad]} "
                f"(run {bad}: {self.configs[bad].regulariser}, seed {self.configs[bad].seed})"
            )

    def _synchronize(self) -> None:
        """Wait for the device's queued work (a GPU runs ahead of the clock otherwise)."""
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    # ----------------------------------------------------------------- evaluation
    def _per_run(self, fn: Callable[..., tuple[Tensor, ...]], x: Tensor) -> tuple[Tensor, ...]:
        """``fn(params, x)`` for every run, stacked along a new first axis (vmap only for several)."""
        if self.n_runs == 1:
            return tuple(t.unsqueeze(0) for t in fn({k: v[0] for k, v in self.params.items()}, x))
        return vmap(fn, in_dims=(0, None))(self.params, x)

    def _encode_test(self, chunk: Tensor) -> tuple[Tensor, Tensor]:
        return self._per_run(lambda params, x: encode(sub_params(params, "encoder."), x), chunk)

    @torch.no_grad()
    def evaluate(self) -> list[dict[str, float]]:
        """Table 1's metrics per run: test MSE (per-image sum of squared errors, mean latent,
        averaged over every test image) and rate (mean KL(q||p) over the test set); and the same
        two on a fixed subset of the training images (``train_mse``, ``train_rate``: Figure 7)."""
        test = self._distortion_rate(self.test_x, self.test_noise if self.cfg.noise > 0 else None)
        train_x = self.train_x[:TRAIN_EVAL_IMAGES]
        train_noise = None
        if self.cfg.noise > 0:  # the same fixed-noise treatment as the test images, another seed
            train_noise = data.fixed_test_noise(tuple(train_x.shape), self.cfg.noise, seed=1).to(self.device)
        train = self._distortion_rate(train_x, train_noise)
        return [
            {"test_mse": s, "rate": r, "train_mse": ts, "train_rate": tr}
            for (s, r), (ts, tr) in zip(test, train)
        ]

    def _distortion_rate(self, images: Tensor, noise: Tensor | None) -> list[tuple[float, float]]:
        """Per run: mean per-image squared error against the clean images, and mean KL(q||p)."""

        def reconstruct(params: dict[str, Tensor], x: Tensor) -> tuple[Tensor, Tensor]:
            logits, mu, logvar, _ = vae_forward(params, x, fast=self.fast_layers)
            zeros = torch.zeros_like(mu)
            return logits, kl_normal(mu, logvar, zeros, zeros)

        sse = torch.zeros(self.n_runs, dtype=torch.float64, device=self.device)
        rate = torch.zeros_like(sse)
        for start in range(0, images.shape[0], EVAL_CHUNK):
            target = data.to_float(images[start : start + EVAL_CHUNK])
            x = target
            if noise is not None:
                x = (target + noise[start : start + EVAL_CHUNK]).clamp(0.0, 1.0)
            logits, kl = self._per_run(reconstruct, x)
            sse += (torch.sigmoid(logits) - target).pow(2).flatten(2).sum(2).sum(1).double()
            rate += kl.sum(1).double()
        n = images.shape[0]
        return [(s / n, r / n) for s, r in zip(sse.tolist(), rate.tolist())]

    @torch.no_grad()
    def landscape(self) -> list[dict[str, list[float]]]:
        """The alpha landscape of the current encoders (Figure 3): mean primal and dual divergence
        over ``landscape_images`` test images on a grid of alpha, plus both KLs (for eq. 16)."""
        chunk = data.to_float(self.test_x[: self.cfg.landscape_images])
        mu, logvar = self._encode_test(chunk)  # (M, L, d)
        grid = torch.linspace(0.0, 1.0, self.cfg.landscape_points, device=self.device).view(-1, 1)
        zeros = torch.zeros_like(mu)
        out = []
        for m in range(self.n_runs):
            # (A, 1) skews against (1, L, d) posteriors: (A, L) divergences
            primal = gjs_normal(mu[m, None], logvar[m, None], grid, validate=False).mean(-1)
            dual = gjs_normal(mu[m, None], logvar[m, None], grid, dual=True, validate=False).mean(-1)
            out.append(
                {
                    "primal": primal.tolist(),
                    "dual": dual.tolist(),
                    "kl_qp": kl_normal(mu[m], logvar[m], zeros[m], zeros[m]).mean().item(),
                    "kl_pq": kl_normal(zeros[m], zeros[m], mu[m], logvar[m]).mean().item(),
                }
            )
        return out

    @torch.no_grad()
    def reconstructions(self, run: int, n: int = 8) -> tuple[Tensor, Tensor]:
        """The first ``n`` test inputs and run ``run``'s reconstructions of them (mean latent)."""
        target = data.to_float(self.test_x[:n])
        x = target if self.cfg.noise == 0 else (target + self.test_noise[:n]).clamp(0.0, 1.0)
        params = {k: v[run] for k, v in self.params.items()}
        logits, *_ = vae_forward(params, x, fast=self.fast_layers)
        return x.cpu(), torch.sigmoid(logits).cpu()

    # ----------------------------------------------------------------- checkpoints
    def state_dict(self) -> dict[str, Any]:
        return {
            "version": CHECKPOINT_VERSION,
            "configs": [c.to_dict() for c in self.configs],
            "device": self.device.type,  # where its random streams live (not in version 3's first files)
            "epoch": self.epoch,
            "step": self.step,
            "train_seconds": self.train_seconds,
            "params": {k: v.detach().cpu() for k, v in self.params.items()},
            "alpha": self.alpha.detach().cpu(),
            "model_opt": self.model_opt.state_dict(),
            "alpha_opt": self.alpha_opt.state_dict(),
            "shuffle_gens": [g.get_state() for g in self.shuffle_gens],
            "noise_gens": [g.get_state() for g in self.noise_gens],
            "histories": [h.__dict__ for h in self.histories],
        }

    def save_checkpoint(self, path: str | Path) -> None:
        """Write a checkpoint atomically (temporary file, then rename)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        buffer = io.BytesIO()
        torch.save(self.state_dict(), buffer)
        payload = bytearray(buffer.getbuffer())
        # torch.load checks no CRC: a sha256 of the payload makes any damaged byte detectable
        wrapped = {
            "sha256": hashlib.sha256(payload).hexdigest(),
            "payload": torch.frombuffer(payload, dtype=torch.uint8),
        }
        tmp = path.with_name(path.name + ".tmp")
        torch.save(wrapped, tmp)
        os.replace(tmp, path)

    def load_checkpoint(self, path: str | Path) -> None:
        """Continue from a checkpoint of the same configurations; ``ValueError`` if it does not fit."""
        try:
            wrapped = torch.load(path, map_location="cpu", weights_only=True)
            payload = wrapped["payload"].numpy().tobytes()
            if hashlib.sha256(payload).hexdigest() != wrapped["sha256"]:
                raise ValueError("checksum mismatch")
            state = torch.load(io.BytesIO(payload), map_location="cpu", weights_only=False)
            if not isinstance(state, dict):
                raise TypeError(f"a {type(state).__name__}, not a checkpoint")
        except Exception as err:  # truncated, damaged, or not a checkpoint: torch raises several kinds
            raise CorruptCheckpoint(
                f"checkpoint {path} is unreadable ({type(err).__name__}: {err}); delete it to restart"
            ) from None
        if state.get("version") != CHECKPOINT_VERSION or state.get("configs") != [
            c.to_dict() for c in self.configs
        ]:
            raise ValueError(
                f"checkpoint {path} was written for other settings; delete it or use another --out"
            )
        self._check_streams(path, state)
        with torch.no_grad():
            for k, v in self.params.items():
                v.copy_(state["params"][k])
            self.alpha.copy_(state["alpha"])
        self.model_opt.load_state_dict(state["model_opt"])
        self.alpha_opt.load_state_dict(state["alpha_opt"])
        for g, s in zip(self.shuffle_gens + self.noise_gens, state["shuffle_gens"] + state["noise_gens"]):
            g.set_state(s)
        self.epoch, self.step, self.train_seconds = state["epoch"], state["step"], state["train_seconds"]
        self.histories = [RunHistory(**h) for h in state["histories"]]

    def _check_streams(self, path: str | Path, state: dict[str, Any]) -> None:
        """A checkpoint's random streams continue only on the kind of device that wrote them: a CPU
        generator's state (Mersenne twister) means nothing to a CUDA one (Philox), and the other way
        round. Refused before anything is loaded, with what to do instead, never taken for damage."""
        saved = state["shuffle_gens"][0]
        # version 3's first files did not say: a CPU generator's state is 5056 bytes, a CUDA one's 16
        written = state.get("device") or ("cpu" if saved.numel() == _CPU_STREAM_BYTES else "cuda")
        if written != self.device.type or saved.numel() != self.shuffle_gens[0].get_state().numel():
            raise ValueError(
                f"checkpoint {path} was written on {written} and this run trains on {self.device.type}: "
                f"its random streams cannot move between devices; resume with --device {written}, "
                "or delete it to start again"
            )
