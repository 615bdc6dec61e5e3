"""fencelock.__version__ is the core's version: the one version of the workspace."""

from __future__ import annotations

import importlib.metadata
import re
from pathlib import Path

import fencelock

ROOT = Path(__file__).resolve().parents[2]


def workspace_version() -> str:
    text = (ROOT / "Cargo.toml").read_text()
    m = re.search(r'\[workspace\.package\][^\[]*?\nversion\s*=\s*"([^"]+)"', text, re.S)
    assert m, "no version in [workspace.package] of Cargo.toml"
    return m.group(1)


def test_version_is_the_workspace_version() -> None:
    assert fencelock.__version__ == workspace_version()


def test_version_matches_the_installed_distribution() -> None:
    # The wheel's metadata (maturin reads the crate's version) and the native module agree.
    assert importlib.metadata.version("fencelock") == fencelock.__version__
