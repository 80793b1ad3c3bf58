"""Between a load's chunks the heap's freed memory goes back to the system: what a chunk freed among what
the load keeps is not held for the rest of the file."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# In a process of its own, so that the test's heap is the only one measured: 150,000 blocks of 1,200 bytes
# (beyond Python's small-object allocator, so from the C heap), every tenth kept, the rest freed.
_FRAGMENTED_HEAP = """
import json
from openbureau.kit.memory import release_freed_memory

def anonymous_kib():
    for line in open("/proc/self/status"):
        if line.startswith("RssAnon:"):
            return int(line.split()[1])

blocks = [bytes(1200) for _ in range(150_000)]
kept = blocks[::10]
del blocks
before = anonymous_kib()
released = release_freed_memory()
print(json.dumps({"released": released, "before": before, "after": anonymous_kib(), "kept": len(kept)}))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RssAnon is Linux's; glibc has malloc_trim")
def test_freed_blocks_among_kept_ones_go_back_to_the_system():
    out = subprocess.run([sys.executable, "-c", _FRAGMENTED_HEAP], check=True, capture_output=True, text=True)
    figures = json.loads(out.stdout)
    assert figures["released"] is True and figures["kept"] == 15_000
    # About 160 MiB were freed between the kept blocks; glibc kept them in its heap until asked.
    assert figures["before"] - figures["after"] > 80 * 1024, figures

