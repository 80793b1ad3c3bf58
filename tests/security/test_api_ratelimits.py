"""Rate limits at the edge: per authenticated member, failed authentications per client address, bounded
memory, and limits shared through the real Redis (redis://127.0.0.1:6379) by separate app instances."""

from __future__ import annotations

import logging
import os
import uuid

import pytest
import redis
from fastapi.testclient import TestClient
from pydantic import SecretStr

from openbureau.api.app import create_app
from openbureau.audit.service import terminal_operator
from openbureau.kit.db import session_scope
from openbureau.members.models import Role
from openbureau.members.service import get_member, issue_key
from tests.members.factories import make_member
from tests.security.helpers import app_with, with_settings

REDIS_URL = os.environ.get("OPENBUREAU_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _get(client, key=None, path="/v1/submissions"):
    return client.get(path, headers={"X-API-Key": key} if key else {})


@pytest.fixture
def redis_prefix():
    """A key prefix of this test's own in the real Redis, removed afterwards."""
    prefix = f"openbureau-test-{uuid.uuid4().hex[:12]}:"
    client = redis.Redis.from_url(REDIS_URL)
    client.ping()  # Redis is required: an unreachable one fails the test
    yield prefix
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)
    client.close()


def test_wrong_secrets_with_a_members_public_prefix_do_not_lock_it_out(runtime) -> None:
    key = make_member(runtime, "BANK_A", Role.FURNISHER)
    prefix = key.split("_")[1]  # public: printed in listings and logs
    app = app_with(runtime, rate_limit_per_minute=3, auth_failures_per_minute=1000)
    with TestClient(app) as client:
        attacks = [_get(client, f"ob_{prefix}_guessed-secret-{n}").status_code for n in range(10)]
        owner = [_get(client, key).status_code for _ in range(3)]
    assert set(attacks) == {401}
    assert owner == [200, 200, 200]


def test_failed_authentication_is_limited_per_client_address(runtime) -> None:
    key = make_member(runtime, "BANK_A", Role.FURNISHER)
    app = app_with(runtime, auth_failures_per_minute=3)
    with TestClient(app, client=("198.51.100.1", 5000)) as attacker:
        tries = [_get(attacker, k) for k in (None, "nonsense", "ob_0123456789ab_x", None, "ob_x_y")]
        from_the_same_address = _get(attacker, key)  # a valid key is never refused for others' failures
    with TestClient(app, client=("198.51.100.2", 5000)) as other:
        elsewhere = _get(other)
    assert [r.status_code for r in tries] == [401, 401, 401, 429, 429]
    assert tries[3].json()["code"] == "AUTH_RATE_LIMITED" and int(tries[3].headers["Retry-After"]) >= 1
    assert from_the_same_address.status_code == 200
    assert elsewhere.status_code == 401


def test_ipv6_clients_are_counted_by_their_64(runtime) -> None:
    app = app_with(runtime, auth_failures_per_minute=2)
    codes = []
    for host in ("2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:ffff::3"):
        with TestClient(app, client=(host, 5000)) as client:
            codes.append(_get(client).status_code)
    with TestClient(app, client=("2001:db8:1:3::1", 5000)) as client:
        codes.append(_get(client).status_code)
    assert codes == [401, 401, 429, 401]


def test_the_limit_follows_the_member_across_its_keys(runtime) -> None:
    first = make_member(runtime, "BANK_A", Role.FURNISHER)
    with session_scope(runtime.engine, write=True) as session:
        second = issue_key(session, principal=terminal_operator(),
                           member=get_member(session, code="BANK_A")).api_key
    other = make_member(runtime, "BANK_B", Role.FURNISHER)
    with TestClient(app_with(runtime, rate_limit_per_minute=4)) as client:
        codes = [_get(client, k).status_code for k in (first, second, first, second, first, second)]
        unaffected = _get(client, other)
    assert codes == [200, 200, 200, 200, 429, 429]
    assert unaffected.status_code == 200


def test_idle_buckets_are_evicted_and_the_table_is_bounded() -> None:
    from openbureau.api.ratelimit import LocalBuckets

    now = [0.0]
    buckets = LocalBuckets(60, max_keys=1_000, clock=lambda: now[0])
    for n in range(50_000):  # a botnet's worth of addresses, all in the same second
        buckets.take_now(f"10.{n >> 16}.{(n >> 8) & 255}.{n & 255}")
    assert len(buckets) == 1_000
    now[0] = 61.0  # a minute later every bucket is full again: as good as none
    assert buckets.take_now("10.9.9.9") == 0
    assert len(buckets) == 1


def test_the_limit_still_holds_for_the_addresses_kept(runtime) -> None:
    app = app_with(runtime, auth_failures_per_minute=2, rate_limit_table_size=100)
    with TestClient(app, client=("192.0.2.1", 1)) as client:
        first = [_get(client).status_code for _ in range(3)]
    for n in range(300):
        with TestClient(app, client=(f"10.0.{n >> 8}.{n & 255}", 1)) as client:
            _get(client)
    assert first == [401, 401, 429]
    assert len(app.state.edge.failures) <= 100


def test_two_app_instances_share_one_limit_through_redis(runtime, redis_prefix) -> None:
    key = make_member(runtime, "BANK_A", Role.FURNISHER)
    shared = with_settings(runtime, rate_limit_per_minute=5, redis_url=SecretStr(REDIS_URL), redis_key_prefix=redis_prefix)
    with TestClient(create_app(shared)) as one, TestClient(create_app(shared)) as two:
        codes = [_get(client, key).status_code for client in (one, two, one, two, one, two, one)]
    assert codes == [200, 200, 200, 200, 200, 429, 429]
    stored = list(redis.Redis.from_url(REDIS_URL).scan_iter(f"{redis_prefix}*"))
    assert stored and all(b"ratelimit:member:" in k for k in stored)
    assert all(0 < redis.Redis.from_url(REDIS_URL).pttl(k) <= 60_000 for k in stored)  # idle buckets expire


def test_failed_authentications_are_counted_across_instances(runtime, redis_prefix) -> None:
    shared = with_settings(runtime, auth_failures_per_minute=3, redis_url=SecretStr(REDIS_URL), redis_key_prefix=redis_prefix)
    with TestClient(create_app(shared), client=("198.51.100.9", 1)) as one, \
            TestClient(create_app(shared), client=("198.51.100.9", 2)) as two:
        codes = [_get(client).status_code for client in (one, two, one, two)]
    assert codes == [401, 401, 401, 429]


def test_an_unreachable_redis_falls_back_to_the_process_limit_and_says_so(runtime, caplog) -> None:
    key = make_member(runtime, "BANK_A", Role.FURNISHER)
    down = with_settings(runtime, rate_limit_per_minute=3, redis_url=SecretStr("redis://127.0.0.1:1/0"))
    with caplog.at_level(logging.WARNING, logger="openbureau.api.ratelimit"):
        with TestClient(create_app(down)) as client:
            codes = [_get(client, key).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]  # limited still: never open because Redis is away
    warnings = [r for r in caplog.records if "Redis unreachable" in r.getMessage()]
    assert len(warnings) == 1  # once per outage, not once per request
