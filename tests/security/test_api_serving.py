"""The server the command line starts closes idle connections and caps concurrency from settings."""

from __future__ import annotations

import uvicorn
from typer.testing import CliRunner

from openbureau.cli.main import app as cli
from openbureau.kit.settings import get_settings


def test_serve_starts_uvicorn_with_the_bureaus_connection_limits(tmp_path, monkeypatch) -> None:
    started = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: started.update(options, app=app))
    monkeypatch.setenv("OPENBUREAU_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("OPENBUREAU_KEEP_ALIVE_SECONDS", "7")
    monkeypatch.setenv("OPENBUREAU_MAX_CONCURRENCY", "50")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["serve", "--port", "8123", "--init"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert started["timeout_keep_alive"] == 7 and started["limit_concurrency"] == 50
    assert started["h11_max_incomplete_event_size"] == 16 * 1024 and started["port"] == 8123
