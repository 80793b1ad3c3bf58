"""The verification example of docs/monitoring.md accepts the bureau's signatures and nothing else."""

from __future__ import annotations

import re
import time
from pathlib import Path

from openbureau.monitoring.signing import new_secret, signature_header

DOC = Path(__file__).resolve().parents[2] / "docs" / "monitoring.md"


def _documented_verify():
    namespace: dict = {}
    exec(re.search(r"```python\n(.*?)```", DOC.read_text(), re.S).group(1), namespace)  # noqa: S102 - our own doc
    return namespace["verify"]


def test_the_documented_example_verifies_both_secrets_of_a_rotation_and_refuses_tampering() -> None:
    verify = _documented_verify()
    new, old = new_secret(), new_secret()
    now, body = int(time.time()), b'{"id":"trg_1","type":"monitoring.freeze"}'
    header = signature_header([new.encode(), old.encode()], timestamp=now, body=body)
    assert verify(header, body, new) and verify(header, body, old)
    assert not verify(header, body, new_secret())
    assert not verify(header, body.replace(b"freeze", b"fraud_alert"), new)
    assert not verify(header.replace(f"t={now}", f"t={now + 1}"), body, new)  # the timestamp is signed
    stale = signature_header([new.encode()], timestamp=now - 3600, body=body)
    assert not verify(stale, body, new)  # an old request replayed
    assert new.startswith("whsec_") and len(new) > 40 and new != old
