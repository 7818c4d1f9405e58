"""Shared fixtures: a data root with every offline dataset (MNIST and Fashion-MNIST copied from
``../shared/data``, tiny Chairs and CelebA folders; dSprites is generated), and for the browser
tests the built book served on 127.0.0.1 with one headless Chromium (see ``browser_helpers``)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from browser_helpers import CHROMIUM_ARGS, HTML, require_chromium, serve
from fixture_folders import make_celeba, make_chairs

from alphavae_core import data
from alphavae_core.paths import REPO_ROOT

SHARED = REPO_ROOT.parent / "shared" / "data"
LOCAL = REPO_ROOT / "data"


def _mnist_source() -> Path | None:
    for root in (LOCAL, SHARED):
        if (root / "MNIST" / "raw").is_dir() and (root / "FashionMNIST" / "raw").is_dir():
            return root
    return None


@pytest.fixture(scope="session")
def data_root(tmp_path_factory) -> Path:
    """A root holding all five datasets; sets ``ALPHAVAE_DATA`` to it for the session."""
    source = _mnist_source()
    if source is None:
        pytest.skip("MNIST/Fashion-MNIST not found in data/ or ../shared/data")
    root = tmp_path_factory.mktemp("data")
    for folder in ("MNIST", "FashionMNIST"):
        (root / folder / "raw").mkdir(parents=True)
        for f in (source / folder / "raw").iterdir():
            shutil.copy(f, root / folder / "raw" / f.name)
    make_chairs(root, models=10, views=8)
    make_celeba(root, n=40)
    old = os.environ.get("ALPHAVAE_DATA")
    os.environ["ALPHAVAE_DATA"] = str(root)
    data.clear_cache()
    yield root
    if old is None:
        os.environ.pop("ALPHAVAE_DATA", None)
    else:
        os.environ["ALPHAVAE_DATA"] = old
    data.clear_cache()


@pytest.fixture(scope="module")
def one_thread():
    """Tiny tensors: one thread is faster on a shared machine; restored afterwards."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def book_url() -> Iterator[str]:
    """The built book (``_build/html``) served on 127.0.0.1."""
    if not (HTML / "book" / "intro.html").is_file():
        pytest.fail(
            "no built book in _build/html: run `make html` first (`make test` does it)", pytrace=False
        )
    with serve(HTML) as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the session (Debian's, driven by Playwright)."""
    executable = require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=executable, headless=True, chromium_sandbox=False, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()
