"""Fixtures of the command-line tests."""

from __future__ import annotations

import pytest

from openbureau.kit.settings import get_settings


@pytest.fixture
def bureau_env(tmp_path, monkeypatch):
    """An empty embedded bureau in a temporary data directory, named by the environment like a user would."""
    monkeypatch.setenv("OPENBUREAU_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("OPENBUREAU_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()
