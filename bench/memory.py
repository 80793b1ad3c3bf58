"""Peak memory of a process tree while a block runs (the benchmarks' memory figures).

Two figures, summed over the processes: resident memory, and of it the anonymous part (the processes' own
heaps: what the code allocates). The rest of resident memory is file pages the processes have mapped, mostly
SQLite's memory-mapped database (``mmap_size``): they grow with the part of the database a process reads,
and the kernel drops them when memory is short, so they do not bound what a machine can do.
"""

from __future__ import annotations

import threading

import psutil


class MemorySampler:
    """Peak resident and peak anonymous memory of ``pid`` (default: this process) and its children, sampled
    every ``interval`` seconds while the block runs, so that set-up steps before it do not count. Also the
    largest anonymous memory of any one process of the tree (a server's busiest worker)."""

    def __init__(self, pid: int | None = None, interval: float = 0.05) -> None:
        self.pid = pid
        self.interval = interval
        self.peak = 0
        self.peak_anonymous = 0
        self.peak_one_process = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        root = psutil.Process(self.pid)
        while not self._stop.is_set():
            try:
                infos = [root.memory_info(), *(c.memory_info() for c in root.children(recursive=True))]
            except psutil.Error:
                continue
            anonymous = [i.rss - i.shared for i in infos]  # Linux: shared is RssFile + RssShmem
            self.peak = max(self.peak, sum(i.rss for i in infos))
            self.peak_anonymous = max(self.peak_anonymous, sum(anonymous))
            self.peak_one_process = max(self.peak_one_process, *anonymous)
            self._stop.wait(self.interval)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def figures(self) -> dict[str, float]:
        """The peaks in MiB: ``peak_mib`` (resident), ``anonymous_mib``, ``one_process_mib`` (anonymous)."""
        return {"peak_mib": self.peak / 2**20, "anonymous_mib": self.peak_anonymous / 2**20,
                "one_process_mib": self.peak_one_process / 2**20}
