"""A serving process tunes its garbage collector once the app has started; a test's app leaves it alone."""

from __future__ import annotations

import gc

from fastapi.testclient import TestClient

from openbureau.api.app import GC_THRESHOLDS, create_app


def test_a_serving_app_freezes_its_start_up_objects_and_collects_less_often(sqlite_runtime) -> None:
    before = gc.get_threshold()
    try:
        with TestClient(create_app(sqlite_runtime)) as client:
            assert client.get("/v1/health").status_code == 200
            assert gc.get_threshold() == before  # not a server: untouched
        with TestClient(create_app(sqlite_runtime, serving=True)) as client:
            assert client.get("/v1/health").status_code == 200
            assert gc.get_threshold() == GC_THRESHOLDS
            assert gc.get_freeze_count() > 10_000  # modules, models and the app: out of every later collection
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
