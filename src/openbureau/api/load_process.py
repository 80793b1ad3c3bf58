"""The loads of files furnished through the API, done by a process of its own (``api.side_process``).

A load of a large file writes for a minute or more. In a thread of the serving process its writing (the
rows' Python work, its write transactions) would share the interpreter lock with the inquiries the process
answers; started as a new process for each file it would first pay its imports and the bureau's opening, a
second or two of CPU at full priority, in the seconds the inquiries feel most (docs/events.md). The load
process is started with the server and keeps the bureau open; its preparing process (reading, validating,
linking, encrypting) runs at ``OPENBUREAU_LOAD_NICENESS`` as for every load (``intake.prepare``).

The answer is the same as a load in a thread: the submission once loaded, or the file's refusal. A load
whose process died is answered 503: nothing of it was visible, the next load removes what it wrote, and the
file sent again is loaded from the beginning.
"""

from __future__ import annotations

from openbureau.api.side_process import SideProcess, side_runtime
from openbureau.intake import service
from openbureau.kit.settings import Settings

LOAD_RESTARTED = "LOAD_RESTARTED"


def _load(submission_id: int) -> None:
    runtime = side_runtime()
    service.load(runtime.engine, settings=runtime.settings, policy=runtime.policy, submission_id=submission_id)


class LoadProcess(SideProcess):
    """Loads received submissions in a process of its own, one at a time."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings, code=LOAD_RESTARTED,
                         stopped="the load process stopped while loading this file; nothing of it is visible: "
                         "send the file again",
                         cannot_start="the load process cannot start; send the file again later")

    async def load(self, submission_id: int) -> None:
        """Load the received submission as :func:`intake.service.load` would, in the load process."""
        await self.run(_load, submission_id)
