"""A file's preparing process starts in its own interpreter (``spawn``): what its imports pull in is paid by
every load of a file large enough to be prepared beside the writer, and by every daily file."""

from __future__ import annotations

import json
import subprocess
import sys

# Imported only where they are used: pinyin where a name is read (0.3 s of dictionaries), the HTTP client
# where a message is sent (with its command-line extras, 0.2 s).
NOT_AT_START = ("pypinyin", "httpx", "pygments")


def test_the_preparing_process_imports_neither_pinyin_nor_the_http_client() -> None:
    code = ("import json, sys; import openbureau.intake.prepare; "
            f"print(json.dumps([m for m in {list(NOT_AT_START)!r} if m in sys.modules]))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert json.loads(run.stdout) == []
