"""The signed-in person's stopwatch: transitions, the one-second tick, heartbeats and idle time."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from functools import partial

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QWidget

from ccmdesk.errors import DatabaseBusy
from ccmdesk.services import Actor, Permission, ServiceError, Services, allowed
from ccmdesk.services.activity import ActivityMonitor, ClockSetBack, IdleBegan
from ccmdesk.services.time.records import ClockCorrection, Stopped, TimerState
from ccmdesk.services.time.recovery import HEARTBEAT_SECONDS, RECOVERY_STOP_REASON, left_running
from ccmdesk.ui.forms import refusal_text, show_error, show_failure
from ccmdesk.ui.idle import IdleSource
from ccmdesk.ui.stopwatch_dialogs import (
    STOP_LABELS,
    IdleDialog,
    RecoveryDialog,
    StopDetails,
    StopDialog,
    SwitchDialog,
)

log = logging.getLogger(__name__)
TICK_MS = 1000


class _NoIdle:
    """Used where no idle source is given (tests that do not exercise idle time)."""

    def idle_seconds(self) -> float:
        return 0.0

    def locked(self) -> bool:
        return False


def live_seconds(timer: TimerState, now: dt.datetime) -> int:
    """Elapsed seconds of a stopwatch read earlier, brought up to `now` if it runs."""
    if timer.state != "running":
        return timer.elapsed_seconds
    closed = sum(int((end - start).total_seconds()) for start, end in timer.segments[:-1])
    return closed + max(0, int((now - timer.segments[-1][0]).total_seconds()))


def _min_s(seconds: int) -> str:
    return f"{seconds // 60} min {seconds % 60} s"


class StopwatchController(QObject):
    """One per main window; every view of the stopwatch (panel, status bar, tray, mini timer)
    reads it and asks it to act, so they can never disagree."""

    changed = Signal()  # started, paused, resumed, stopped or discarded
    time_saved = Signal(str)  # MRN whose recorded time changed

    def __init__(
        self,
        services: Services,
        actor: Callable[[], Actor],
        window: QWidget | None = None,
        idle_source: IdleSource | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        *,
        after_crash: bool = False,
    ) -> None:
        """`after_crash`: the last ccmdesk on this data folder ended without quitting, so every
        stopwatch still running from before now was left by it, however fresh its heartbeat."""
        super().__init__(window)
        self._services = services
        self._actor = actor
        self._window = window
        self._idle_source = idle_source or _NoIdle()
        self._monotonic = monotonic
        self.crashed_before = services.now() if after_crash else None
        self.timers: list[TimerState] = []
        self.last_activity = ""
        # The latest stop and save: the entry and its patient's month as the stop left them,
        # for the views to show without reading them again.
        self.last_stop: Stopped | None = None
        self.idle_dialog: IdleDialog | None = None
        # The idle time waiting for an answer; kept here, not only in the dialog, so a clock
        # set back moves it even while the Stop dialog (asked from the idle question) is open.
        self.pending_idle: IdleBegan | None = None
        # While ccmdesk is locked the idle question (it names the patient) waits for the
        # unlock; messages wait in forms.show_error's own hold.
        self.holding = False
        self._held_idle: Callable[[], None] | None = None
        # The stopwatch "On a call" was ticked for (None: the next one to start).
        self._on_call_entry: int | None = None
        settings = services.practice.stopwatch_settings()
        self.monitor = ActivityMonitor(settings.idle_minutes * 60)
        self._last_beat = 0.0
        self._tick = QTimer(self)
        self._tick.setInterval(TICK_MS)
        self._tick.timeout.connect(self.tick)
        # Views refresh on the timer's own signal, emitted from C++: PySide6 6.12 leaks a
        # reference to True on every emit() from Python, which aborts after ~10,000 ticks.
        self.ticked = self._tick.timeout
        self._zone = services.practice_zone()

    # --- state -------------------------------------------------------------------------------

    @property
    def can_record(self) -> bool:
        return allowed(self._actor(), Permission.RECORD_TIME)

    @property
    def running(self) -> TimerState | None:
        return next((t for t in self.timers if t.state == "running"), None)

    @property
    def shown(self) -> TimerState | None:
        """What compact views show: the running stopwatch, else the oldest paused one."""
        return self.running or (self.timers[0] if self.timers else None)

    @property
    def watching(self) -> bool:
        """True while this window ticks the running stopwatch (false for one left running by a
        crash that is still waiting for the recovery answer)."""
        return self.running is not None and self._tick.isActive()

    def timer_for(self, mrn: str) -> TimerState | None:
        """The person's open (running or paused) stopwatch for this patient."""
        return next((t for t in self.timers if t.mrn == mrn), None)

    def last_patient(self) -> TimerState | None:
        """The global shortcut's patient: the running stopwatch's, else the paused one paused
        last, else the one this person started last (stopped since; read from the database,
        so it outlives a restart). None: no stopwatch yet, or a role that records no time."""
        running = self.running
        if running is not None:
            return running
        if self.timers:
            return max(self.timers, key=lambda t: t.segments[-1][1] if t.segments else t.started_at)
        try:
            return self._services.stopwatch.last_started(self._actor())
        except ServiceError:
            return None

    def seconds(self, timer: TimerState | None) -> int:
        return live_seconds(timer, self._services.now()) if timer else 0

    @property
    def on_call(self) -> bool:
        return self.monitor.on_call

    def set_on_call(self, on: bool) -> None:
        """ "On a call" belongs to one stopwatch: the running one, else the next to start."""
        running = self.running
        self.monitor.on_call = on
        self._on_call_entry = running.entry_id if on and running is not None else None
        self.changed.emit()

    def _end_call_with_its_stopwatch(self) -> None:
        """Once the stopwatch the call was ticked for is stopped, discarded or switched away
        from, the call is over: left on, it would silently keep idle questions from the next."""
        if not self.monitor.on_call:
            return
        running = self.running
        if self._on_call_entry is None:
            if running is not None:
                self._on_call_entry = running.entry_id  # ticked before Start
            return
        open_ids = {t.entry_id for t in self.timers}
        switched = running is not None and running.entry_id != self._on_call_entry
        if self._on_call_entry not in open_ids or switched:
            self.monitor.on_call = False
            self._on_call_entry = None

    def settings_changed(self) -> None:
        settings = self._services.practice.stopwatch_settings()
        self.monitor.idle_threshold_seconds = settings.idle_minutes * 60
        self._zone = self._services.practice_zone()

    def refresh(self, timers: list[TimerState] | None = None) -> None:
        """Re-read the signed-in person's open stopwatches (after a sign-in, say); `timers`:
        them as a write call just returned them, shown without reading them again."""
        if timers is not None:
            self.timers = timers
        else:
            self._zone = self._services.practice_zone()
            try:
                self.timers = self._services.stopwatch.open_timers(self._actor())
            except ServiceError:
                self.timers = []  # this role records no time
        running = self.running
        # Only a stopwatch this window is not already watching can have been left by a crash:
        # heartbeats pause while the idle question waits, and that one is still watched.
        if (
            running is not None
            and not self._tick.isActive()
            and left_running(running, self._services.now(), self.crashed_before)
        ):
            # ccmdesk ended while it ran: recover() asks about it before anything counts on.
            self._tick.stop()
            self.monitor.stop_watching()
        elif running is not None:
            if not self._tick.isActive():
                self._tick.start()
                self.monitor.reset(self._services.now(), self._monotonic())
                self._last_beat = self._monotonic()
        else:
            self._tick.stop()
            self.monitor.stop_watching()
            self._close_idle_dialog()
            self.pending_idle = None
        self._end_call_with_its_stopwatch()
        self.changed.emit()

    # --- transitions -------------------------------------------------------------------------

    def _call(self, work: Callable[[], object]) -> bool:
        try:
            work()
        except ServiceError as error:
            show_failure(self._parent_widget(), error)
            self.refresh()
            return False
        return True

    def start(self, mrn: str, service: str = "ccm", *, callback_id: int | None = None) -> bool:
        """Start (or resume) this patient's stopwatch, timing `service` (a paused one resumes
        with its own); a different running one is asked about. `callback_id`: the callback
        this call makes, linked to the stopwatch (it is done once the stopwatch is stopped)."""
        own = self.timer_for(mrn)
        running = self.running
        if running is not None and running.mrn == mrn:
            return self._link(callback_id, running)
        if running is not None and not self._make_way(running, mrn):
            return False
        if own is not None and own.state == "paused":
            ok = self._call(lambda: self._services.stopwatch.resume(self._actor(), own.entry_id))
        else:
            ok = self._call(lambda: self._services.stopwatch.start(self._actor(), mrn, service))
        # A TimerRunning from another window of the same person shows as a refusal above.
        self.refresh()
        started = self.timer_for(mrn)
        return ok and (started is None or self._link(callback_id, started))

    def _link(self, callback_id: int | None, timer: TimerState) -> bool:
        """Link the callback to the patient's stopwatch; the stopwatch runs either way."""
        if callback_id is not None:
            calls = self._services.calls
            self._call(lambda: calls.link(self._actor(), callback_id, timer.entry_id))
        return True

    def _make_way(self, running: TimerState, mrn: str) -> bool:
        choice = self.ask_switch(running, mrn)
        if choice == SwitchDialog.PAUSE:
            return self.pause()
        if choice == SwitchDialog.STOP:
            return self.stop_and_save(running)
        return False

    def _idle_question_first(self) -> bool:
        """True (and the question brought forward) while idle time waits for an answer."""
        if self.idle_dialog is None:
            return False
        self.idle_dialog.raise_()
        self.idle_dialog.activateWindow()
        return True

    def pause(self) -> bool:
        running = self.running
        if running is None or self._idle_question_first():
            return False
        ok = self._call(lambda: self._services.stopwatch.pause(self._actor(), running.entry_id))
        self.refresh()
        return ok

    def resume(self, mrn: str) -> bool:
        return self.start(mrn)

    def pause_or_resume(self, mrn: str | None = None) -> None:
        """Ctrl+P, the tray and the mini timer: pause the running stopwatch, or resume this
        patient's paused one (else the one the status bar shows)."""
        if self.running is not None:
            self.pause()
            return
        paused = (self.timer_for(mrn) if mrn else None) or self.shown
        if paused is not None:
            self.start(paused.mrn)

    def toggle(self, mrn: str | None, service: str = "ccm") -> None:
        """Ctrl+Space (CCM) and Ctrl+Shift+Space (BHI): stop and save this patient's running
        stopwatch, else start theirs timing `service`; with no patient chosen, stop and save
        whatever runs."""
        running = self.running
        if running is not None and (mrn is None or running.mrn == mrn):
            self.stop_and_save(running)
        elif mrn is not None:
            self.start(mrn, service)

    def stop_and_save(
        self, timer: TimerState | None = None, at: dt.datetime | None = None, reason: str = ""
    ) -> bool:
        """Ask what was done, then stop (at `at`, or now) and save; False if the nurse kept
        timing or the save was refused."""
        timer = timer or self.running or (self.timers[0] if self.timers else None)
        if timer is None or (at is None and self._idle_question_first()):
            return False
        now = self._services.now()
        seconds = live_seconds(timer, min(at or now, now))
        details: StopDetails | None = None
        refusal = ""
        # A refused save (say, an overlap with an entry added meanwhile) asks again with
        # everything typed kept, and says why.
        while (details := self.ask_stop(timer, seconds, at, details, refusal)) is not None:
            try:
                stopped = self._services.stopwatch.stop(
                    self._actor(),
                    timer.entry_id,
                    activity=details.activity,
                    service=details.service,
                    face_to_face=details.face_to_face,
                    note=details.note,
                    at=at,
                    reason=reason,
                )
            except ServiceError as error:
                refusal = refusal_text(error, STOP_LABELS)
                continue
            self.last_activity = details.activity
            self.last_stop = stopped
            self.time_saved.emit(timer.mrn)
            # The stop returned what changed: the other open stopwatches are as they were.
            self.refresh([t for t in self.timers if t.entry_id != stopped.timer.entry_id])
            return True
        self.refresh()
        return False

    def discard(self, timer: TimerState, reason: str) -> bool:
        """Throw away a stopwatch started by mistake (kept, marked deleted, with the reason)."""
        stopwatch = self._services.stopwatch
        done = self._call(lambda: stopwatch.discard(self._actor(), timer.entry_id, reason))
        self.refresh()
        return done

    # --- the tick: display, heartbeat, idle and clock jumps ---------------------------------

    def tick(self) -> None:
        running = self.running
        if running is None:
            self._tick.stop()
            return
        mono = self._monotonic()
        # No heartbeat while the idle question waits: a crash then must not keep the idle time.
        if mono - self._last_beat >= HEARTBEAT_SECONDS and not self.monitor.waiting:
            self._last_beat = mono
            try:
                self._services.stopwatch.heartbeat(self._actor(), running.entry_id)
            except DatabaseBusy:
                # Another workstation holds the write lock (an import): this beat is skipped,
                # the next comes in a few seconds; a crash meanwhile loses only those seconds.
                log.info("heartbeat skipped: the database is busy")
            except ServiceError as error:
                log.warning("heartbeat refused: %s", type(error).__name__)
                self.refresh()
                return
        try:
            idle, locked = self._idle_source.idle_seconds(), self._idle_source.locked()
        except OSError:
            idle, locked = 0.0, False
        event = self.monitor.tick(self._services.now(), mono, idle, locked)
        if isinstance(event, ClockSetBack):
            self._clock_set_back(running, event)
        elif isinstance(event, IdleBegan):
            self.ask_idle(running, event)

    def _clock_set_back(self, running: TimerState, event: ClockSetBack) -> None:
        fixed: list[ClockCorrection] = []
        self._call(
            lambda: fixed.append(
                self._services.corrections.clock_set_back(
                    self._actor(), running.entry_id, event.seconds
                )
            )
        )
        self.refresh()
        if not fixed:
            return
        if self.pending_idle is not None:
            # The idle time began on the old clock: it moves with the entry, and never lies
            # after the corrected now.
            since = self.pending_idle.since - dt.timedelta(seconds=fixed[0].shifted_seconds)
            since = min(since, self._services.now())
            self.pending_idle = replace(self.pending_idle, since=since)
            if self.idle_dialog is not None:
                moved = next(
                    (t for t in self.timers if t.entry_id == self.idle_dialog.entry_id), None
                )
                self.idle_dialog.set_idle(self.pending_idle, moved)
        kept = "kept the time that really passed"
        if fixed[0].lost_seconds:
            kept = (
                f"left out {_min_s(fixed[0].lost_seconds)}, which could not move back without "
                "overlapping your other entries or a signed month"
            )
        text = (
            f"The computer's clock went back {_min_s(event.seconds)}. The stopwatch for "
            f"{running.patient_name} {kept}; the change is in the audit trail."
        )
        show_error(self._parent_widget(), text)

    def hold_questions(self, hold: bool) -> None:
        """Locked (True): the idle question waits. Unlocked: it is asked now, if the stopwatch
        it is about is still this person's."""
        self.holding = hold
        held, self._held_idle = self._held_idle, None
        if not hold and held is not None:
            held()

    def forget_held(self) -> None:
        """Someone else signed in at the lock screen: the questions were not theirs to answer.
        An idle question already open closes unanswered (its owner is asked again about that
        time when they next sign in, as for any stopwatch nobody watched)."""
        self._held_idle = None
        self._close_idle_dialog()
        self.pending_idle = None

    def ask_idle(self, running: TimerState, event: IdleBegan) -> None:
        """Show the idle question (window-modal, not blocking the tick) for this stopwatch."""
        self.pending_idle = event
        if self.holding:
            # Asked once ccmdesk is unlocked, about the same stopwatch if it still runs here.
            def later() -> None:
                still = self.running
                if still is not None and still.entry_id == running.entry_id:
                    self.ask_idle(still, event)

            self._held_idle = later  # one idle question: the latest
            return
        self._close_idle_dialog()
        dialog = IdleDialog(running, event, self._zone, self._parent_widget())
        dialog.finished.connect(lambda _: self._idle_answered(dialog))
        self.idle_dialog = dialog
        dialog.open()

    def _close_idle_dialog(self) -> None:
        if self.idle_dialog is not None:
            dialog, self.idle_dialog = self.idle_dialog, None
            dialog.finished.disconnect()
            dialog.close()
            dialog.deleteLater()

    def _idle_answered(self, dialog: IdleDialog) -> None:
        self.idle_dialog = None
        dialog.deleteLater()
        timer = next((t for t in self.timers if t.entry_id == dialog.entry_id), None)
        choice = dialog.chosen()
        event = self.pending_idle or dialog.idle
        if choice == IdleDialog.DISCARD_ENTRY and timer is not None:
            # Idle from its start: there is nothing to stop and save, so it goes (audited).
            self.pending_idle = None
            self.discard(timer, "idle from its start: no time recorded before idleness began")
            self._watch_again()
            return
        if choice == IdleDialog.STOP and timer is not None:
            if not self.stop_and_save(
                timer, at=event.since, reason="stopped where idle time began"
            ):
                still = self.running
                if still is not None and still.entry_id == dialog.entry_id:
                    # Stop cancelled: the idle time is still there and still needs an answer
                    # (from where it now begins, should the clock have moved meanwhile).
                    self.ask_idle(still, self.pending_idle or event)
                else:
                    self.pending_idle = None
                    self._watch_again()
            else:
                self.pending_idle = None
            return
        self.pending_idle = None
        since = event.since
        corrections = self._services.corrections
        reason = dialog.reason.text().strip() if choice == IdleDialog.KEEP else ""
        self._call(
            lambda: corrections.resolve_idle(
                self._actor(), dialog.entry_id, since, choice, reason=reason
            )
        )
        self._watch_again()

    def _watch_again(self) -> None:
        self.refresh()
        if self.running is not None:
            self.monitor.reset(self._services.now(), self._monotonic())

    # --- after a crash -----------------------------------------------------------------------

    def recover(self) -> None:
        """Offer back each stopwatch the person left running when ccmdesk last ended badly."""
        if not self.can_record:
            return
        for timer in self._services.stopwatch.stale_timers(self._actor(), self.crashed_before):
            while (choice := self.ask_recovery(timer)) == "stop_at_heartbeat":
                # Saved like any stop, with what was done asked first; cancelling that goes
                # back to this question, the stopwatch untouched.
                beat = timer.last_heartbeat_at or timer.started_at
                if self.stop_and_save(timer, at=beat, reason=RECOVERY_STOP_REASON):
                    break
            else:
                self._call(
                    partial(self._services.stopwatch.recover, self._actor(), timer.entry_id, choice)
                )
        self.refresh()

    # --- questions (methods, so tests can answer them) -----------------------------------------

    def ask_switch(self, running: TimerState, mrn: str) -> str:
        name = self._patient_name(mrn)
        dialog = SwitchDialog(running, self.seconds(running), name, self._parent_widget())
        dialog.exec()
        return dialog.choice

    def ask_stop(
        self,
        timer: TimerState,
        seconds: int,
        end: dt.datetime | None,
        typed: StopDetails | None = None,
        refusal: str = "",
    ) -> StopDetails | None:
        settings = self._services.practice.stopwatch_settings()
        dialog = StopDialog(
            timer,
            seconds,
            settings.activities,
            self._zone,
            activity=self.last_activity,
            end=end,
            typed=typed,
            refusal=refusal,
            # Stopped at Save (no end given): the time shown runs on with the stopwatch.
            live=(lambda: self.seconds(timer)) if end is None else None,
            parent=self._parent_widget(),
        )
        return dialog.details() if dialog.exec() == StopDialog.DialogCode.Accepted else None

    def ask_recovery(self, timer: TimerState) -> str:
        dialog = RecoveryDialog(timer, self._services.now(), self._zone, self._parent_widget())
        dialog.exec()
        return dialog.choice or "stop_at_heartbeat"

    # --- helpers -----------------------------------------------------------------------------

    def _patient_name(self, mrn: str) -> str:
        try:
            record = self._services.patients.get(self._actor(), mrn)
        except ServiceError:
            return f"MRN {mrn}"
        return f"{record.first_name} {record.last_name}"

    def _parent_widget(self) -> QWidget | None:
        return self._window
