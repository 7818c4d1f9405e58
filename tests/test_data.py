"""Data module: shapes, padding, integrity checks, the dSprites grid and renderer, user folders, noise."""

from __future__ import annotations

import gzip
import math
import shutil
from pathlib import Path
from urllib.error import URLError

import numpy as np
import pytest
import torch
import torchvision.datasets as tvd
from fixture_folders import make_celeba, make_chairs
from PIL import Image

from alphavae_core import data
from alphavae_core.data import images
from alphavae_core.data.dsprites import (
    FACTOR_SIZES,
    N_IMAGES,
    NPZ_NAME,
    DSprites,
    factor_values,
    load_dsprites_npz,
    render,
)
from alphavae_core.errors import UserError
from alphavae_core.paths import REPO_ROOT

SHARED = REPO_ROOT.parent / "shared" / "data"
needs_shared = pytest.mark.skipif(not (SHARED / "MNIST" / "raw").is_dir(), reason="no ../shared/data")


@pytest.fixture(autouse=True)
def _fresh_cache():
    data.clear_cache()
    yield
    data.clear_cache()


def _copy_gz(src: Path, dst: Path) -> None:
    """Copy only the ``.gz`` files of a raw folder (the shared folder may also hold uncompressed ones)."""
    dst.mkdir(parents=True)
    for f in src.glob("*.gz"):
        shutil.copy(f, dst / f.name)


def _read_idx_gz(path: Path) -> np.ndarray:
    """An independent idx reader: (N, 28, 28) uint8 from a .gz file."""
    buf = gzip.decompress(path.read_bytes())
    return np.frombuffer(buf, dtype=np.uint8, offset=16).reshape(-1, 28, 28).copy()


@pytest.fixture(scope="module")
def gz_root(tmp_path_factory) -> Path:
    """A data root holding only the shared .gz files (decompressed by the first load)."""
    if not (SHARED / "MNIST" / "raw").is_dir():
        pytest.skip("no ../shared/data")
    root = tmp_path_factory.mktemp("data")
    for folder in ("MNIST", "FashionMNIST"):
        _copy_gz(SHARED / folder / "raw", root / folder / "raw")
    return root


def _test_split_root(tmp_path: Path) -> Path:
    """A root with MNIST's uncompressed t10k files and empty train placeholders (fast to corrupt)."""
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for stem in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        (raw / stem).write_bytes(gzip.decompress((SHARED / "MNIST" / "raw" / f"{stem}.gz").read_bytes()))
    for stem in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"):
        (raw / stem).write_bytes(b"")
    return raw


# --- names, shapes, arguments ----------------------------------------------------------------------


def test_shapes_and_reconstruction_follow_table_2():
    assert [data.image_shape(n) for n in data.DATASETS] == [
        (1, 32, 32),
        (1, 32, 32),
        (1, 64, 64),
        (1, 64, 64),
        (3, 64, 64),
    ]
    assert [data.default_reconstruction(n) for n in data.DATASETS] == ["mse"] + ["bernoulli"] * 4


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"name": "cifar"}, "mnist, fashion, dsprites, chairs, celeba"),
        ({"name": "mnist", "split": "valid"}, "train, test"),
        ({"name": "mnist", "subset": 0}, "subset"),
        ({"name": "mnist", "subset": 2.5}, "subset"),
    ],
)
def test_bad_arguments_are_value_errors_listing_choices(kwargs, needle):
    with pytest.raises(ValueError, match=needle):
        data.load_images(**kwargs)
    with pytest.raises(ValueError, match="cifar"):
        data.image_shape("cifar")


# --- MNIST and Fashion-MNIST -----------------------------------------------------------------------


@needs_shared
@pytest.mark.parametrize(("name", "folder"), [("mnist", "MNIST"), ("fashion", "FashionMNIST")])
def test_mnist_padded_from_gz_only_root(gz_root, name, folder):
    test = data.load_images(name, "test", root=gz_root)
    assert test.shape == (10000, 1, 32, 32) and test.dtype == torch.uint8 and test.is_contiguous()
    raw28 = _read_idx_gz(SHARED / folder / "raw" / "t10k-images-idx3-ubyte.gz")
    assert torch.equal(test[:, 0, 2:30, 2:30], torch.from_numpy(raw28))  # the digit sits at the centre
    border = test.clone()
    border[:, :, 2:30, 2:30] = 0
    assert int(border.max()) == 0 and int(test.max()) == 255  # zero padding, full 0..255 range
    for stem in ("train-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):  # decompressed into the root
        assert (gz_root / folder / "raw" / stem).stat().st_size > 0
    train = data.load_images(name, "train", root=gz_root)
    assert train.shape == (60000, 1, 32, 32)
    tv = getattr(tvd, folder)(str(gz_root), train=True, download=False)  # torchvision agrees
    assert torch.equal(train[:5, 0, 2:30, 2:30], tv.data[:5])
    first = data.load_images(name, "train", root=gz_root, subset=7)
    assert first.shape == (7, 1, 32, 32) and torch.equal(first, train[:7])
    assert data.load_images(name, "train", root=gz_root) is train  # cached: a second call is free


@needs_shared
def test_env_variable_sets_the_default_root(gz_root, monkeypatch):
    monkeypatch.setenv("ALPHAVAE_DATA", str(gz_root))
    assert data.load_images("mnist", "test", subset=3).shape == (3, 1, 32, 32)


@needs_shared
def test_read_only_root_is_read_in_memory(tmp_path, monkeypatch):
    raw = tmp_path / "MNIST" / "raw"
    _copy_gz(SHARED / "MNIST" / "raw", raw)
    monkeypatch.setattr(images, "_writable", lambda folder: False)
    test = data.load_images("mnist", "test", root=tmp_path)
    assert not (raw / "t10k-images-idx3-ubyte").exists()  # nothing written
    raw28 = _read_idx_gz(raw / "t10k-images-idx3-ubyte.gz")
    assert torch.equal(test[:, 0, 2:30, 2:30], torch.from_numpy(raw28))


def test_offline_without_data_is_one_line(tmp_path, monkeypatch):
    def offline(self):
        raise URLError("no network")

    monkeypatch.setattr(tvd.MNIST, "download", offline)
    monkeypatch.setenv("ALPHAVAE_DATA", str(tmp_path))
    with pytest.raises(UserError) as err:
        data.load_images("fashion")
    msg = str(err.value)
    assert "\n" not in msg
    assert str(tmp_path / "FashionMNIST" / "raw") in msg
    assert "train-images-idx3-ubyte" in msg and "ALPHAVAE_DATA" in msg


@needs_shared
def test_truncated_file_is_named(tmp_path):
    raw = _test_split_root(tmp_path)
    path = raw / "t10k-images-idx3-ubyte"
    assert data.load_images("mnist", "test", root=tmp_path).shape == (10000, 1, 32, 32)
    path.write_bytes(path.read_bytes()[:-1000])
    data.clear_cache()
    with pytest.raises(UserError, match="truncated") as err:
        data.load_images("mnist", "test", root=tmp_path)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


@needs_shared
def test_wrong_md5_is_named(tmp_path):
    raw = _test_split_root(tmp_path)
    path = raw / "t10k-labels-idx1-ubyte"
    content = bytearray(path.read_bytes())
    content[-1] ^= 1  # same length, one label changed
    path.write_bytes(bytes(content))
    with pytest.raises(UserError, match="md5") as err:
        data.load_images("mnist", "test", root=tmp_path)
    assert str(path) in str(err.value) and "delete it" in str(err.value)


@needs_shared
def test_truncated_gz_is_named(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    _copy_gz(SHARED / "MNIST" / "raw", raw)
    gz = raw / "t10k-images-idx3-ubyte.gz"
    gz.write_bytes(gz.read_bytes()[:5000])
    with pytest.raises(UserError, match="truncated or corrupt") as err:
        data.load_images("mnist", "test", root=tmp_path)
    assert str(gz) in str(err.value)


# --- dSprites ----------------------------------------------------------------------------------------


def test_dsprites_grid_order():
    ds = DSprites()
    assert len(ds) == N_IMAGES == 737280 == math.prod(FACTOR_SIZES)
    assert ds.factors(0).tolist() == [0, 0, 0, 0, 0, 0]
    assert ds.factors(N_IMAGES - 1).tolist() == [0, 2, 5, 39, 31, 31]
    assert ds.factors(1).tolist() == [0, 0, 0, 0, 0, 1]  # posY fastest
    assert ds.factors(32).tolist() == [0, 0, 0, 0, 1, 0]
    assert ds.factors(245760).tolist() == [0, 1, 0, 0, 0, 0]  # second shape starts at 737280 / 3
    idx = torch.randint(0, N_IMAGES, (500,), generator=torch.Generator().manual_seed(1))
    assert torch.equal(ds.index(ds.factors(idx)), idx)
    values = ds.values(N_IMAGES - 1)
    assert values.tolist() == pytest.approx([1.0, 3.0, 1.0, 2 * math.pi, 1.0, 1.0])
    assert factor_values()[2].tolist() == pytest.approx([0.5, 0.6, 0.7, 0.8, 0.9, 1.0])
    with pytest.raises(ValueError, match="737280"):
        ds.factors(N_IMAGES)


def _images(shape, scale, orient, px, py):
    ds = DSprites()
    classes = torch.tensor(
        [[0, s, sc, o, x, y] for s, sc, o, x, y in zip(shape, scale, orient, px, py, strict=True)]
    )
    return ds.images(ds.index(classes))[:, 0].float() / 255


def test_dsprites_render_is_binary_and_shapes_differ():
    ims = _images([0, 1, 2], [5] * 3, [0] * 3, [16] * 3, [16] * 3)
    assert set(torch.unique(ims).tolist()) == {0.0, 1.0}
    assert all(ims[i].sum() > 50 for i in range(3))
    for i, j in [(0, 1), (0, 2), (1, 2)]:
        assert (ims[i] != ims[j]).sum() > 20


@pytest.mark.parametrize("shape", [0, 1, 2])
def test_dsprites_area_grows_with_scale(shape):
    ims = _images([shape] * 6, range(6), [0] * 6, [16] * 6, [16] * 6)
    areas = ims.sum((1, 2)).tolist()
    assert all(a < b for a, b in zip(areas[:-1], areas[1:], strict=True))
    assert areas[-1] / areas[0] == pytest.approx(4.0, rel=0.25)  # scale doubles: area about 4x


def test_dsprites_translation_moves_the_centroid():
    grid = torch.arange(64.0)
    ims = _images([2] * 4, [3] * 4, [7] * 4, [0, 10, 31, 31], [5, 5, 5, 30])
    col = (ims.sum(1) * grid).sum(1) / ims.sum((1, 2))
    row = (ims.sum(2) * grid).sum(1) / ims.sum((1, 2))
    assert col[0] < col[1] < col[2] and col[2] - col[0] == pytest.approx(0.68 * 64, abs=2)
    assert row[0] == pytest.approx(row[2], abs=0.5) and row[3] > row[2] + 30  # posY moves it down
    assert col[3] == pytest.approx(col[2], abs=0.5)


def test_dsprites_orientation_rotates_and_wraps():
    heart = _images([2] * 3, [5] * 3, [0, 20, 39], [16] * 3, [16] * 3)
    assert (heart[0] != heart[1]).sum() > 20  # half a turn flips the heart
    assert (heart[0] != heart[2]).sum() <= 2  # orientation 39 is 2 pi, the same as 0
    flipped = render(torch.tensor([2]), torch.tensor([1.0]), torch.tensor([math.pi]), [0.5], [0.5])[0, 0]
    upright = render(torch.tensor([2]), torch.tensor([1.0]), torch.tensor([0.0]), [0.5], [0.5])[0, 0]
    assert (flipped != upright.flip(0)).float().mean() < 0.01  # a half turn about the centre


def test_dsprites_load_images_uses_the_held_out_split():
    train_idx, test_idx = data.dsprites_indices("train"), data.dsprites_indices("test")
    assert len(train_idx) + len(test_idx) == N_IMAGES and len(test_idx) == N_IMAGES // 10
    assert torch.unique(torch.cat([train_idx, test_idx])).numel() == N_IMAGES
    test = data.load_images("dsprites", "test", subset=6)
    assert test.shape == (6, 1, 64, 64) and test.dtype == torch.uint8
    assert torch.equal(test, DSprites().images(test_idx[:6]))
    assert not torch.equal(data.dsprites_indices("test", seed=1)[:6], test_idx[:6])


def _fake_npz(path: Path, n: int, **overrides) -> None:
    rng = np.random.default_rng(0)
    arrays = {
        "imgs": rng.integers(0, 2, (n, 64, 64), dtype=np.uint8),
        "latents_classes": rng.integers(0, 3, (n, 6)).astype(np.int64),
        "latents_values": rng.random((n, 6)),
    }
    arrays.update(overrides)
    np.savez_compressed(path, **{k: v for k, v in arrays.items() if v is not None})


def test_npz_loader_on_a_fake_file(tmp_path):
    path = tmp_path / NPZ_NAME
    _fake_npz(path, 5)
    arrays = load_dsprites_npz(path)
    with np.load(path) as npz:
        assert torch.equal(arrays.images[:, 0], torch.from_numpy(npz["imgs"]) * 255)
        assert torch.equal(arrays.classes, torch.from_numpy(npz["latents_classes"]))
    assert arrays.images.shape == (5, 1, 64, 64) and arrays.images.dtype == torch.uint8
    _fake_npz(path, 5, latents_values=None)
    with pytest.raises(UserError, match="latents_values"):
        load_dsprites_npz(path)
    path.write_bytes(b"not a zip")
    with pytest.raises(UserError, match=str(path).replace(".", r"\.")):
        load_dsprites_npz(path)


def test_load_images_prefers_the_official_npz(tmp_path):
    (tmp_path / "dsprites").mkdir()
    _fake_npz(tmp_path / "dsprites" / NPZ_NAME, 20)
    train = data.load_images("dsprites", "train", root=tmp_path)
    test = data.load_images("dsprites", "test", root=tmp_path)
    assert train.shape == (18, 1, 64, 64) and test.shape == (2, 1, 64, 64)
    assert set(torch.unique(train).tolist()) <= {0, 255}


# --- Chairs and CelebA (fixture folders in the standard layouts) ------------------------------------


def test_chairs_fixture(tmp_path):
    make_chairs(tmp_path)
    train = data.load_images("chairs", "train", root=tmp_path)
    test = data.load_images("chairs", "test", root=tmp_path)
    assert train.shape == (8, 1, 64, 64) and test.shape == (4, 1, 64, 64) and test.dtype == torch.uint8
    assert int(test[:, 0, 0, 0].min()) == 255  # white background stays white
    centres = set(test[:, 0, 32, 32].tolist())
    assert len(centres) == 1 and not centres & set(train[:, 0, 32, 32].tolist())  # test holds whole models
    assert data.load_images("chairs", "train", root=tmp_path, subset=3).shape == (3, 1, 64, 64)


def test_chairs_transparent_background_becomes_white(tmp_path):
    make_chairs(tmp_path, rgba=True)
    assert int(data.load_images("chairs", "train", root=tmp_path)[:, 0, 0, 0].min()) == 255


def test_celeba_fixture_seeded_split_and_nearest_resampling(tmp_path):
    make_celeba(tmp_path)
    train = data.load_images("celeba", "train", root=tmp_path)
    test = data.load_images("celeba", "test", root=tmp_path)
    assert train.shape == (9, 3, 64, 64) and test.shape == (1, 3, 64, 64)
    assert not any(torch.equal(test[0], im) for im in train)

    # nearest neighbour invents no colours: every output pixel is a pixel of one decoded input
    def codes(rgb: np.ndarray) -> np.ndarray:
        return rgb.reshape(-1, 3).astype(np.int64) @ np.array([65536, 256, 1])

    out = codes(test[0].permute(1, 2, 0).numpy())
    sources = [codes(np.asarray(Image.open(p).convert("RGB"))) for p in sorted(tmp_path.rglob("*.jpg"))]
    match = [bool(np.isin(out, src).all()) for src in sources]
    assert sum(match) == 1


def test_celeba_partition_file(tmp_path):
    make_celeba(tmp_path, partition=[0, 0, 0, 0, 1, 1, 2, 2, 2, 0])
    assert data.load_images("celeba", "train", root=tmp_path).shape == (5, 3, 64, 64)
    assert data.load_images("celeba", "test", root=tmp_path, subset=2).shape == (2, 3, 64, 64)


@pytest.mark.parametrize(("name", "needle"), [("chairs", "rendered_chairs"), ("celeba", "img_align_celeba")])
def test_missing_user_folders_give_one_line(tmp_path, name, needle):
    with pytest.raises(UserError) as err:
        data.load_images(name, root=tmp_path)
    msg = str(err.value)
    assert "\n" not in msg and str(tmp_path) in msg and needle in msg and "not downloadable" in msg


# --- noise and conversion ---------------------------------------------------------------------------


def test_to_float():
    x = torch.tensor([0, 51, 255], dtype=torch.uint8)
    assert data.to_float(x).dtype == torch.float32
    assert data.to_float(x).tolist() == pytest.approx([0.0, 0.2, 1.0])


def test_add_noise_clamps_and_is_reproducible():
    x = torch.rand(4000, generator=torch.Generator().manual_seed(0))
    a = data.add_noise(x, 0.5, generator=torch.Generator().manual_seed(3))
    b = data.add_noise(x, 0.5, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a, b) and float(a.min()) == 0.0 and float(a.max()) == 1.0
    middle = torch.full((20000,), 0.5)
    spread = data.add_noise(middle, 0.05, generator=torch.Generator().manual_seed(4)) - middle
    assert float(spread.std()) == pytest.approx(0.05, rel=0.05)
    assert torch.equal(data.add_noise(x, 0.0), x)
    with pytest.raises(ValueError, match="sigma"):
        data.add_noise(x, -0.1)


def test_fixed_test_noise_is_fixed_by_seed():
    a = data.fixed_test_noise((100, 1, 8, 8), 0.3, seed=7)
    assert a.shape == (100, 1, 8, 8) and a.dtype == torch.float32
    assert torch.equal(a, data.fixed_test_noise((100, 1, 8, 8), 0.3, seed=7))
    assert not torch.equal(a, data.fixed_test_noise((100, 1, 8, 8), 0.3, seed=8))
    assert float(a.std()) == pytest.approx(0.3, rel=0.1)
