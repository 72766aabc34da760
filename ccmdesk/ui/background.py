"""Run slow service calls off the GUI thread and hand the outcome back on it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from PySide6.QtCore import QObject, Qt, Signal, Slot

from ccmdesk.errors import KnownError
from ccmdesk.services import ServiceError

Done = Callable[[Any], None]
Failed = Callable[[BaseException], None]


class TaskRunner(Protocol):
    """Runs `work`, then calls `done(result)` or `failed(error)` on the GUI thread."""

    def run(self, work: Callable[[], Any], done: Done, failed: Failed) -> None: ...


class _Relay(QObject):
    """Carries one task's outcome from its worker thread to the GUI thread."""

    finished = Signal(object)
    errored = Signal(object)

    def __init__(self, done: Done, failed: Failed, forget: Callable[[_Relay], None]) -> None:
        super().__init__()
        self._done = done
        self._failed = failed
        self._forget = forget
        self.worker: threading.Thread | None = None
        # Queued: the relay lives in the GUI thread, so its slots run there whoever emits.
        self.finished.connect(self._on_finished, Qt.ConnectionType.QueuedConnection)
        self.errored.connect(self._on_errored, Qt.ConnectionType.QueuedConnection)

    def _release(self) -> None:
        # The worker has emitted and is about to end; wait for it, so its last reference to
        # this QObject is gone before ours is, and the object is freed in the GUI thread
        # (Qt aborts when a QObject is deleted from a thread that does not own it).
        if self.worker is not None:
            self.worker.join()
            self.worker = None
        self._forget(self)

    @Slot(object)
    def _on_finished(self, result: object) -> None:
        self._release()
        self._done(result)

    @Slot(object)
    def _on_errored(self, error: BaseException) -> None:
        self._release()
        self._failed(error)


# Relays whose outcome has not arrived yet. Module-wide rather than per runner: a window (and
# its runner) may go while a task still runs, and the relay must then still be freed in the GUI
# thread, once its queued outcome is delivered, not by the worker dropping the last reference.
_in_flight: set[_Relay] = set()


class ThreadTaskRunner:
    """Each task on its own Python thread; services open one session per call, so this is safe."""

    def run(self, work: Callable[[], Any], done: Done, failed: Failed) -> None:
        relay = _Relay(done, failed, _in_flight.discard)
        _in_flight.add(relay)

        def target() -> None:
            try:
                result = work()
            except Exception as error:  # handed to the GUI thread, which shows it
                relay.errored.emit(error)
            else:
                relay.finished.emit(result)

        relay.worker = threading.Thread(target=target, name="ccmdesk-task", daemon=True)
        relay.worker.start()

    @staticmethod
    def wait(timeout: float | None = None) -> None:
        """Block until every running task's thread has ended, or `timeout` seconds in all have
        passed (for shutdown and tests)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        for relay in list(_in_flight):
            if relay.worker is not None:
                left = None if deadline is None else max(0.0, deadline - time.monotonic())
                relay.worker.join(left)


class InlineTaskRunner:
    """Runs the task at once on the calling thread: for tests, where order must be certain.

    Only refusals (ServiceError) and known errors (a busy or damaged database) go to `failed`;
    anything else is a bug and propagates.
    """

    def run(self, work: Callable[[], Any], done: Done, failed: Failed) -> None:
        try:
            result = work()
        except (ServiceError, KnownError) as error:
            failed(error)
        else:
            done(result)


class LatestOnly:
    """Runs loads on a runner and hands back only the newest one's outcome: a page that
    loads a month never shows an earlier request's rows under the month now chosen."""

    def __init__(self, runner: TaskRunner) -> None:
        self._runner = runner
        self._latest = 0

    def run(self, work: Callable[[], Any], done: Done, failed: Failed) -> None:
        self._latest += 1
        number = self._latest

        def if_latest(handle: Callable[[Any], None]) -> Callable[[Any], None]:
            return lambda outcome: handle(outcome) if number == self._latest else None

        self._runner.run(work, if_latest(done), if_latest(failed))

    def forget(self) -> None:
        """Whatever is on its way is no longer wanted."""
        self._latest += 1
