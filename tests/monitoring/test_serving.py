"""`openbureau serve` on the embedded default delivers webhooks itself; with a database URL it leaves them to
`openbureau webhooks run`."""

from __future__ import annotations

import gc
import time

import pytest
from fastapi.testclient import TestClient

from openbureau.api.app import create_app, webhooks_in_process
from openbureau.runtime import Runtime
from tests.monitoring.factories import add_endpoint, deliveries, register
from tests.monitoring.test_webhooks import _opened


@pytest.mark.parametrize("runtime", ["sqlite"], indirect=True)  # the embedded default is SQLite by definition
def test_the_serving_process_delivers_on_the_embedded_default(market, receiver) -> None:
    runtime, _ = market
    assert webhooks_in_process(runtime) is None  # a database URL is set: the worker runs apart
    embedded = Runtime(settings=runtime.settings.model_copy(update={"database_url": None}), engine=runtime.engine,
                       vault=runtime.vault)
    register(runtime, "LENDER", 0, "REF-0")
    add_endpoint(runtime, "LENDER", receiver.url)
    before = gc.get_threshold()
    try:
        with TestClient(create_app(embedded, serving=True)) as client:
            assert client.get("/v1/health").status_code == 200
            _opened(runtime, "O-1")
            deadline = time.monotonic() + 20
            while not receiver.received and time.monotonic() < deadline:
                time.sleep(0.05)
        (delivery,) = deliveries(runtime)
        assert [r.delivery_id for r in receiver.received] == [delivery.delivery_id]
        assert delivery.status == "delivered"
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
