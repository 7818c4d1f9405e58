"""The five image datasets of the paper (Appendix C, Table 2) as whole uint8 tensors.

Every dataset comes back from :func:`load_images` as one contiguous uint8 tensor (N, C, H, W) with
values 0..255; the trainer batches it by index and turns each batch into floats in [0, 1] with
:func:`to_float`. Shapes follow Table 2:

=========  ============  ==========================================================================
name       (C, H, W)     source
=========  ============  ==========================================================================
mnist      (1, 32, 32)   torchvision's ``MNIST`` files; 28x28 zero-padded by 2 on each side (Appendix C)
fashion    (1, 32, 32)   torchvision's ``FashionMNIST`` files; padded the same way
dsprites   (1, 64, 64)   :mod:`.dsprites` (generated), or the official ``.npz`` in ``<root>/dsprites/``
chairs     (1, 64, 64)   3D Chairs, ``<root>/chairs/rendered_chairs/<model>/renders/*.png``
celeba     (3, 64, 64)   CelebA, ``<root>/celeba/img_align_celeba/*.jpg``, nearest-neighbour resized
=========  ============  ==========================================================================

``root`` defaults to :func:`alphavae_core.paths.data_root` (``$ALPHAVAE_DATA``, else ``data/`` in the repository).

Test splits. MNIST and Fashion-MNIST have official ones. For the other three the paper's released
code evaluated on its training data; here a held-out split is used instead: dSprites and Chairs hold
out a seeded 10% (Chairs by chair model, so no test chair is seen in training), CelebA uses its
``list_eval_partition.txt`` (0 train, 2 test; 1, validation, is not used) or, without it, a seeded
90/10 split. The order within those splits is a seeded shuffle, so ``subset=N`` (the first N images of
the split) is a random sample rather than, say, only small squares. Keep ``seed`` fixed (default 0)
to compare runs on the same test set.

Tensors are cached per process, so a second call costs nothing; they are shared, so do not modify
them in place (``to_float`` makes a new tensor).
"""

from __future__ import annotations

import gzip
import hashlib
import os
import tempfile
import zipfile
import zlib
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from alphavae_core.data import dsprites as _dsprites
from alphavae_core.errors import UserError
from alphavae_core.paths import data_root
from alphavae_core.progress import progress

__all__ = [
    "DATASETS",
    "SPLITS",
    "clear_cache",
    "default_reconstruction",
    "dsprites_indices",
    "image_shape",
    "load_images",
    "to_float",
]

DATASETS = ("mnist", "fashion", "dsprites", "chairs", "celeba")
SPLITS = ("train", "test")

_SHAPES = {
    "mnist": (1, 32, 32),
    "fashion": (1, 32, 32),
    "dsprites": (1, 64, 64),
    "chairs": (1, 64, 64),
    "celeba": (3, 64, 64),
}
# Table 2: MNIST's decoder is scored with MSE, every other dataset with a Bernoulli likelihood.
_RECONSTRUCTION = {"mnist": "mse", "fashion": "bernoulli", "dsprites": "bernoulli", "chairs": "bernoulli"}
_TEST_FRACTION = 0.1


def _check_name(name: str) -> str:
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
    return name


def image_shape(name: str) -> tuple[int, int, int]:
    """``(C, H, W)`` of the images of dataset ``name`` as the models see them (Table 2)."""
    return _SHAPES[_check_name(name)]


def default_reconstruction(name: str) -> str:
    """Reconstruction loss of Table 2: ``"mse"`` for MNIST, ``"bernoulli"`` otherwise."""
    return _RECONSTRUCTION.get(_check_name(name), "bernoulli")


def to_float(batch: Tensor) -> Tensor:
    """uint8 images (0..255) as float32 in [0, 1] (a new tensor)."""
    return batch.to(torch.float32).div_(255.0)


# --------------------------------------------------------------------------------------------------
# Entry point


def load_images(
    name: str,
    split: str = "train",
    root: str | Path | None = None,
    subset: int | None = None,
    seed: int = 0,
) -> Tensor:
    """The images of ``split`` of dataset ``name``: contiguous uint8 (N, C, H, W), values 0..255.

    ``subset=N`` keeps the first N images of the split (all of it if it is smaller); only those are
    read or rendered for dSprites, Chairs and CelebA. ``seed`` fixes the held-out split and the
    shuffled order of dSprites, Chairs and CelebA (see the module docstring); MNIST and
    Fashion-MNIST ignore it. Missing or corrupt data raise :class:`.UserError` saying how to fix it.

    Memory: ``subset=None`` materialises the whole split, e.g. 0.25 GB for MNIST train, about
    2.7 GB (train) and 0.3 GB (test) for dSprites, 2.5 GB for CelebA. Time: rendering dSprites takes
    about 0.1 ms an image on one core; decoding all of Chairs or CelebA takes minutes.
    """
    _check_name(name)
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}")
    if subset is not None and (isinstance(subset, bool) or not isinstance(subset, int) or subset < 1):
        raise ValueError(f"subset must be a positive integer or None, got {subset!r}")
    root_key = str(Path(root if root is not None else data_root()).expanduser().resolve())
    if name in ("mnist", "fashion"):
        full = _mnist_padded(name, split, root_key)
        return full if subset is None else full[:subset]  # a contiguous view of the cached tensor
    return _load_other(name, split, root_key, subset, int(seed))


def clear_cache() -> None:
    """Forget the images cached in this process (e.g. after replacing files on disk)."""
    _mnist_padded.cache_clear()
    _load_other.cache_clear()
    _read_dsprites_npz.cache_clear()
    _MD5_SEEN.clear()


@lru_cache(maxsize=8)
def _load_other(name: str, split: str, root: str, subset: int | None, seed: int) -> Tensor:
    loader = {"dsprites": _load_dsprites, "chairs": _load_chairs, "celeba": _load_celeba}[name]
    return loader(split, Path(root), subset, seed).contiguous()


def _split_order(n: int, split: str, seed: int) -> Tensor:
    """A seeded permutation of range(n): its first 10% is the test split, the rest the training split."""
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    n_test = max(1, int(n * _TEST_FRACTION)) if n > 1 else 0
    return perm[:n_test] if split == "test" else perm[n_test:]


# --------------------------------------------------------------------------------------------------
# MNIST and Fashion-MNIST (torchvision layout <root>/<MNIST|FashionMNIST>/raw/)

_FOLDERS = {"mnist": "MNIST", "fashion": "FashionMNIST"}
_PREFIX = {"train": "train", "test": "t10k"}
_COUNTS = {"train": 60000, "test": 10000}
# MD5 of the UNCOMPRESSED files (the .gz wrappers differ between mirrors; the contents do not).
_MD5 = {
    "MNIST/train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "MNIST/train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "MNIST/t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "MNIST/t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
    "FashionMNIST/train-images-idx3-ubyte": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
    "FashionMNIST/train-labels-idx1-ubyte": "9018921c3c673c538a1fc5bad174d6f9",
    "FashionMNIST/t10k-images-idx3-ubyte": "8181f5470baa50b63fa0f6fddb340f0a",
    "FashionMNIST/t10k-labels-idx1-ubyte": "15d484375f8d13e6eb1aabb0c3f46965",
}
_MD5_SEEN: dict[tuple[str, int, int], str] = {}  # (path, size, mtime_ns) -> md5: hash a file once


def _idx_files(split: str) -> tuple[str, str]:
    return f"{_PREFIX[split]}-images-idx3-ubyte", f"{_PREFIX[split]}-labels-idx1-ubyte"


def _fix_hint(path: Path) -> str:
    gz = path.with_name(f"{path.name}.gz")
    if path.suffix != ".gz" and gz.exists():  # the uncompressed file is rebuilt from its archive
        return f"delete it and run again to re-extract it from {gz.name} (delete that too to re-download)"
    return f"delete it and run again to re-download, or copy a fresh copy into {path.parent}"


@lru_cache(maxsize=8)
def _mnist_padded(name: str, split: str, root: str) -> Tensor:
    """The split's images zero-padded from 28x28 to 32x32 (Appendix C), (N, 1, 32, 32) uint8."""
    digits = _mnist_raw_images(name, split, Path(root))
    padded = torch.zeros((digits.shape[0], 1, 32, 32), dtype=torch.uint8)
    padded[:, 0, 2:30, 2:30] = digits
    return padded


def _mnist_raw_images(name: str, split: str, root: Path) -> Tensor:
    folder = _FOLDERS[name]
    raw = root / folder / "raw"
    all_files = [f for s in SPLITS for f in _idx_files(s)]
    gz_only = [f for f in all_files if not (raw / f).exists() and (raw / f"{f}.gz").exists()]
    if gz_only and _writable(raw):  # torchvision (download=False) looks for the uncompressed files
        for file in gz_only:
            _write_atomic(raw / file, _gunzip(raw / f"{file}.gz"))
    missing = [f for f in all_files if not (raw / f).exists() and not (raw / f"{f}.gz").exists()]
    if missing:
        _download(name, root, raw, missing)
    images_file, labels_file = _idx_files(split)
    if not all((raw / f).exists() for f in all_files):  # a read-only folder of .gz files: read it here
        path = raw / images_file if (raw / images_file).exists() else raw / f"{images_file}.gz"
        buf = path.read_bytes() if path.suffix != ".gz" else _gunzip(path)
        _check_idx(path, buf[:16], len(buf), _COUNTS[split])
        _check_md5(path, f"{folder}/{images_file}", data=buf)
        return torch.from_numpy(np.frombuffer(buf, dtype=np.uint8, offset=16).copy()).view(-1, 28, 28)
    for file in (images_file, labels_file):  # both files of the split, as torchvision would check them
        path = raw / file
        with open(path, "rb") as fh:
            header = fh.read(16)
        _check_idx(path, header, path.stat().st_size, _COUNTS[split])
        _check_md5(path, f"{folder}/{file}")
    # read with numpy rather than torchvision's dataset class: importing torchvision costs 1.4 s of
    # every training process's start-up, longer than reading the file
    images = np.fromfile(raw / images_file, dtype=np.uint8, offset=16)
    return torch.from_numpy(images).view(-1, 28, 28)


def _writable(folder: Path) -> bool:
    """Whether files can be created in ``folder`` (tried, since permission bits do not tell root)."""
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".alphavae-probe.")
    except OSError:
        return False
    os.close(fd)
    os.remove(tmp)
    return True


def _gunzip(src: Path) -> bytes:
    """The decompressed content of ``src``; a damaged archive is a :class:`.UserError` naming it."""
    try:
        with gzip.open(src, "rb") as fh:
            return fh.read()
    except (OSError, EOFError, zlib.error) as err:  # BadGzipFile is an OSError
        raise UserError(f"{src} is truncated or corrupt ({type(err).__name__}): {_fix_hint(src)}") from None


def _write_atomic(dst: Path, data: bytes) -> None:
    """Write ``dst`` via a temporary file, so a crash never leaves a half-written file under its name;
    its md5 is recorded on the way so it is not read back just to be hashed."""
    fd, tmp = tempfile.mkstemp(dir=dst.parent, prefix=f".{dst.name}.")
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.chmod(tmp, 0o644)  # mkstemp makes 0600 files; these are ordinary data files
    os.replace(tmp, dst)
    st = dst.stat()
    _MD5_SEEN[(str(dst), st.st_size, st.st_mtime_ns)] = hashlib.md5(data).hexdigest()


def _download(name: str, root: Path, raw: Path, missing: list[str]) -> None:
    import torchvision.datasets as tvd

    cls = getattr(tvd, _FOLDERS[name])
    try:
        cls(str(root), train=True, download=True)
    except Exception as err:  # offline shows up as the download failing; no other network probe
        raise UserError(
            f"{_FOLDERS[name]} data not found in {raw} and the download failed ({type(err).__name__}):"
            f" put {', '.join(missing)} (or the same names with .gz) there, or set ALPHAVAE_DATA to a"
            f" folder holding {_FOLDERS[name]}/raw/"
        ) from None


def _check_idx(path: Path, header: bytes, size: int, count: int) -> None:
    """Check an idx file's magic number, counts and length against what MNIST's format requires."""
    is_images = "images" in path.name
    header_len = 16 if is_images else 8
    if size < header_len:
        raise UserError(f"{path} is truncated ({size} bytes): {_fix_hint(path)}")
    magic, n = int.from_bytes(header[0:4], "big"), int.from_bytes(header[4:8], "big")
    dims = (
        (n, int.from_bytes(header[8:12], "big"), int.from_bytes(header[12:16], "big")) if is_images else (n,)
    )
    want_magic, want_dims = (2051, (count, 28, 28)) if is_images else (2049, (count,))
    if magic != want_magic or dims != want_dims:
        raise UserError(f"{path} is not the expected idx file (header {magic}, {dims}): {_fix_hint(path)}")
    expected = header_len + int(np.prod(dims))
    if size != expected:
        raise UserError(
            f"{path} is truncated or corrupt ({size} bytes, expected {expected}): {_fix_hint(path)}"
        )


def _check_md5(path: Path, key: str, data: bytes | None = None) -> None:
    """Compare the file's md5 with the known one, hashing each file once per process."""
    want = _MD5.get(key)
    if want is None:
        return
    if data is not None:
        got = hashlib.md5(data).hexdigest()
    else:
        st = path.stat()
        stamp = (str(path), st.st_size, st.st_mtime_ns)
        if stamp not in _MD5_SEEN:
            digest = hashlib.md5()
            with open(path, "rb") as fh:
                for block in iter(lambda: fh.read(1 << 22), b""):
                    digest.update(block)
            _MD5_SEEN[stamp] = digest.hexdigest()
        got = _MD5_SEEN[stamp]
    if got != want:
        raise UserError(f"{path} is corrupt (md5 {got}, expected {want}): {_fix_hint(path)}")


# --------------------------------------------------------------------------------------------------
# dSprites


@lru_cache(maxsize=1)
def _read_dsprites_npz(path: str) -> _dsprites.DSpritesArrays:
    return _dsprites.load_dsprites_npz(path)


def dsprites_indices(split: str = "train", seed: int = 0) -> Tensor:
    """Grid indices of a dSprites split, in the order :func:`load_images` returns its images, so
    ``DSprites().factors(dsprites_indices("test")[:n])`` are the factors of the first n test images."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}")
    return _split_order(_dsprites.N_IMAGES, split, int(seed))


def _load_dsprites(split: str, root: Path, subset: int | None, seed: int) -> Tensor:
    """A seeded 10% of the grid is held out for testing (the released code scored training data).

    Uses the official ``.npz`` when ``<root>/dsprites/`` holds it, else renders with :mod:`.dsprites`.
    """
    npz = root / "dsprites" / _dsprites.NPZ_NAME
    if npz.exists():
        try:
            images = _read_dsprites_npz(str(npz)).images
        except (zipfile.BadZipFile, zlib.error) as err:  # a truncated archive, or a failed CRC check
            raise UserError(
                f"{npz} is truncated or corrupt ({err}): delete it to render dSprites here instead, or"
                f" copy a fresh {_dsprites.NPZ_NAME} from github.com/deepmind/dsprites-dataset there"
            ) from None
        return images[_split_order(images.shape[0], split, seed)[:subset]]
    return _dsprites.DSprites().images(_split_order(_dsprites.N_IMAGES, split, seed)[:subset])


# --------------------------------------------------------------------------------------------------
# 3D Chairs and CelebA: folders the user supplies (neither can be downloaded here)


def _not_found(title: str, layout: Path, extra: str = "") -> UserError:
    return UserError(
        f"{title} not found: expected {layout}{extra}; it is not downloadable here, so place your own"
        " copy in that layout (or set ALPHAVAE_DATA to the folder that holds it)"
    )


def _decode(paths: list[Path], convert: Callable[[Path], np.ndarray], shape: tuple[int, ...]) -> Tensor:
    """Decode ``paths`` with ``convert`` (path -> uint8 array of ``shape``) into one (N, *shape) tensor."""
    out = torch.empty((len(paths), *shape), dtype=torch.uint8)
    for i, path in enumerate(progress(paths, desc="decoding images")):
        out.numpy()[i] = convert(path)  # numpy assignment: PIL arrays are read-only
    return out


def _load_chairs(split: str, root: Path, subset: int | None, seed: int) -> Tensor:
    """3D Chairs (Aubry et al., 2014), 600x600 renders on white turned into 64x64 grey.

    Each render is resized as a whole to 64x64 with Lanczos (antialiased) filtering and then made
    grey (ITU-R 601 luma), which is what the disentangling-vae preprocessing the paper's code grew
    from produces (its 400x400 centre crop discards its own result, so it has no effect). The test
    split is a seeded 10% of the chair models.
    """
    from PIL import Image

    base = root / "chairs" / "rendered_chairs"
    layout = base / "<model>" / "renders" / "*.png"
    models = sorted(p for p in base.glob("*") if p.is_dir() and any((p / "renders").glob("*.png")))
    if not models:
        raise _not_found("3D Chairs", layout, " (the unpacked rendered_chairs.tar)")
    if len(models) < 2:
        raise UserError(f"{base} holds one chair model; a test split needs at least two: add more models")
    chosen = [models[i] for i in _split_order(len(models), split, seed).tolist()]
    paths = [p for model in chosen for p in sorted((model / "renders").glob("*.png"))]
    order = torch.randperm(len(paths), generator=torch.Generator().manual_seed(seed))[:subset]

    def convert(path: Path) -> np.ndarray:
        with Image.open(path) as img:
            img = _on_white(img).resize((64, 64), Image.Resampling.LANCZOS).convert("L")
            return np.asarray(img, dtype=np.uint8)[None]

    return _decode([paths[i] for i in order.tolist()], convert, (1, 64, 64))


def _on_white(img):
    """RGB image; a transparent background becomes white, as in the renders."""
    from PIL import Image

    if img.mode in ("RGBA", "LA", "P"):
        img = img.convert("RGBA")
        canvas = Image.new("RGBA", img.size, (255, 255, 255, 255))
        return Image.alpha_composite(canvas, img).convert("RGB")
    return img.convert("RGB")


def _load_celeba(split: str, root: Path, subset: int | None, seed: int) -> Tensor:
    """CelebA aligned faces (178x218) resized to 64x64x3 with nearest-neighbour interpolation, as
    the paper states (Appendix C): the whole frame, so faces are slightly squashed vertically.

    Train is partition 0 and test partition 2 of ``list_eval_partition.txt`` (in ``<root>/celeba/``
    or ``<root>/celeba/Eval/``); without that file, a seeded 10% is held out.
    """
    from PIL import Image

    base = root / "celeba"
    images_dir = base / "img_align_celeba"
    files = sorted(images_dir.glob("*.jpg")) if images_dir.is_dir() else []
    if not files:
        raise _not_found(
            "CelebA", images_dir / "*.jpg", " (optionally with list_eval_partition.txt in celeba/)"
        )
    candidates = [base / "list_eval_partition.txt", base / "Eval" / "list_eval_partition.txt"]
    partition = next((p for p in candidates if p.exists()), None)
    if partition is None:
        paths = [files[i] for i in _split_order(len(files), split, seed).tolist()]
    else:
        wanted = "0" if split == "train" else "2"
        present = {p.name: p for p in files}
        names = [ln.split() for ln in partition.read_text().splitlines() if ln.strip()]
        chosen = [present[n[0]] for n in names if len(n) == 2 and n[1] == wanted and n[0] in present]
        order = torch.randperm(len(chosen), generator=torch.Generator().manual_seed(seed))
        paths = [chosen[i] for i in order.tolist()]
    paths = paths[:subset]

    def convert(path: Path) -> np.ndarray:
        with Image.open(path) as img:
            small = img.convert("RGB").resize((64, 64), Image.Resampling.NEAREST)
            return np.asarray(small, dtype=np.uint8).transpose(2, 0, 1)

    return _decode(paths, convert, (3, 64, 64))
