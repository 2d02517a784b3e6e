"""Crash points for the fault suite (tests/e2e/test_faults.py).

``PICIDAI_CRASH_AT=<point>`` in a service's environment makes the process SIGKILL itself
the first time it reaches that point: no ``finally``, no rollback, no response — what a
power cut or the OOM killer does, at the worst moment we can name. Points are written where
work is half done across a boundary: a transaction committed but its answer not sent, an
answer received but not recorded, a notification sent but not marked.

Unset (always in production: the settings refuse it there) a point costs one comparison.
"""

import os
import signal

ENV = "PICIDAI_CRASH_AT"
_ARMED = os.environ.get(ENV) or None


def armed() -> bool:
    return _ARMED is not None


def crash_point(name: str) -> None:
    if _ARMED is not None and _ARMED == name:
        os.kill(os.getpid(), signal.SIGKILL)
