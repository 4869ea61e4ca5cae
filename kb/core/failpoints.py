"""Named points where kb can be made to exit abruptly, as a crash, a kill or a power cut would.

For the test suite only (``tests/test_crashes.py``): it starts kb as a real process with
``KB_FAILPOINT=<point>`` and checks that the next start recovers. The variable is read from the
environment, not from :class:`~kb.settings.Settings`, so nothing an operator configures can set it;
unset, each point costs one dictionary lookup.
"""

from __future__ import annotations

import os
import sys

ENVIRONMENT_VARIABLE = "KB_FAILPOINT"
EXIT_STATUS = 86
"""What a process stopped at a point exits with, so a test tells it from a real failure."""

POINTS = frozenset({
    "first-start",      # the sample help center (or a clone of KB_REPO_URL) in its staging folder, not yet renamed into place
    "embedding",        # the first batch of new chunks embedded and cached, the rest not
    "snapshot-save",    # a snapshot's files half written in its staging folder
    "snapshot-swap",    # a snapshot saved, not yet served nor recorded as the latest
    "proposal-row",     # a proposal's row inserted, its transaction not committed, no branch yet
    "proposal-branch",  # a proposal's branch written, its row not yet committed
    "merge",            # a proposal's branch merged into its base, the row still saying "open"
})


def reached(point: str) -> None:
    """Exit at once, without cleanup (``os._exit``), if the environment names ``point``."""
    if point not in POINTS:
        raise ValueError(f"unknown failure point {point!r}")
    if os.environ.get(ENVIRONMENT_VARIABLE) == point:
        sys.stderr.write(f"kb: exiting at failure point {point!r} ({ENVIRONMENT_VARIABLE})\n")
        sys.stderr.flush()
        os._exit(EXIT_STATUS)
