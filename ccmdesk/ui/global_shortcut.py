"""A key combination heard from any program: on X11 and Windows; elsewhere, why not."""

from __future__ import annotations

import contextlib
import logging
import os
import select
import socket
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from PySide6.QtCore import QObject, Qt, Signal

from ccmdesk.config import log_failure

log = logging.getLogger(__name__)

IN_APP = "Ctrl+Space"  # the window's own Start-or-stop shortcut, named where this one cannot be
GRAB_WAIT_SECONDS = 5.0
# A combination held down repeats; presses closer than this to the last key event are that
# repeat (or a double tap), not a second toggle.
REPEAT_MS = 600

# Modifier names as QKeySequence's portable text spells them, and the spellings a person may
# type into settings.json by hand.
MODIFIERS = ("Meta", "Ctrl", "Alt", "Shift")
_MODIFIER_ALIASES = {
    "ctrl": "Ctrl",
    "control": "Ctrl",
    "alt": "Alt",
    "shift": "Shift",
    "meta": "Meta",
    "super": "Meta",
    "win": "Meta",
}

# Key name -> (X11 keysym, Windows virtual-key code). Letters and digits are added below.
# Left out on purpose: Print (the desktop's screenshot key), Esc, Tab, Return and Backspace.
_NAMED_KEYS: dict[str, tuple[int, int]] = {
    "Space": (0x0020, 0x20),
    "Home": (0xFF50, 0x24),
    "Left": (0xFF51, 0x25),
    "Up": (0xFF52, 0x26),
    "Right": (0xFF53, 0x27),
    "Down": (0xFF54, 0x28),
    "PgUp": (0xFF55, 0x21),
    "PgDown": (0xFF56, 0x22),
    "End": (0xFF57, 0x23),
    "Ins": (0xFF63, 0x2D),
    "Del": (0xFFFF, 0x2E),
    "Pause": (0xFF13, 0x13),
}
for _n in range(1, 25):
    _NAMED_KEYS[f"F{_n}"] = (0xFFBE + _n - 1, 0x70 + _n - 1)
for _c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ":
    _NAMED_KEYS[_c] = (ord(_c.lower()), ord(_c))  # X11 grabs by the unshifted keysym
for _c in "0123456789":
    _NAMED_KEYS[_c] = (ord(_c), ord(_c))
_CONSOLE_KEYS = frozenset(f"F{n}" for n in range(1, 13))
_KEYS_BY_LOWER = {name.lower(): name for name in _NAMED_KEYS}

# X11 modifier masks (X.h) and the usual homes of Alt, NumLock and the Super ("Meta") key;
# the listener asks the server where they really are.
SHIFT_MASK, LOCK_MASK, CONTROL_MASK = 1, 2, 4
MOD1_MASK, MOD2_MASK, MOD4_MASK = 8, 16, 64
# Windows RegisterHotKey flags.
MOD_ALT, MOD_CONTROL, MOD_SHIFT, MOD_WIN, MOD_NOREPEAT = 0x1, 0x2, 0x4, 0x8, 0x4000


class ShortcutError(ValueError):
    """A combination that cannot be a global shortcut; the message says what to choose."""


@dataclass(frozen=True)
class Combination:
    """One key with its modifiers, e.g. Ctrl+Alt+Shift+S."""

    modifiers: frozenset[str]
    key: str

    @property
    def text(self) -> str:
        """As QKeySequence writes it (modifiers in Qt's order)."""
        return "+".join([*(m for m in MODIFIERS if m in self.modifiers), self.key])

    def x11(self, alt_mask: int = MOD1_MASK, meta_mask: int = MOD4_MASK) -> tuple[int, int]:
        """The keysym and modifier mask XGrabKey takes."""
        masks = {"Ctrl": CONTROL_MASK, "Alt": alt_mask, "Shift": SHIFT_MASK, "Meta": meta_mask}
        mask = 0
        for name in self.modifiers:
            mask |= masks[name]
        return _NAMED_KEYS[self.key][0], mask

    def windows(self) -> tuple[int, int]:
        """The virtual-key code and MOD_* flags RegisterHotKey takes (held keys do not repeat)."""
        flags = {"Ctrl": MOD_CONTROL, "Alt": MOD_ALT, "Shift": MOD_SHIFT, "Meta": MOD_WIN}
        mods = MOD_NOREPEAT
        for name in self.modifiers:
            mods |= flags[name]
        return _NAMED_KEYS[self.key][1], mods


def parse_combination(text: str) -> Combination:
    """A QKeySequence's portable text ("Ctrl+Alt+Shift+S") as a Combination.

    One key with Ctrl, Alt or Meta among its modifiers: a bare key or Shift+key would be
    taken from every program's typing."""
    text = text.strip()
    if not text:
        raise ShortcutError("Press a key combination, or turn the global shortcut off.")
    if "," in text:
        raise ShortcutError(f"{text} is several key presses; choose one combination.")
    *parts, key = text.split("+")
    modifiers: set[str] = set()
    for part in parts:
        name = _MODIFIER_ALIASES.get(part.strip().lower())
        if name is None:
            raise ShortcutError(
                f"{text} is not a combination of Ctrl, Alt, Shift or Meta and a key."
            )
        modifiers.add(name)
    name = _KEYS_BY_LOWER.get(key.strip().lower())
    if name is None:
        raise ShortcutError(
            f"ccmdesk cannot use {key.strip() or text} in a global shortcut; choose a letter, "
            "a digit, a function key (F1–F24), Space or a cursor key."
        )
    if {"Ctrl", "Alt"} <= modifiers and (name == "Del" or name in _CONSOLE_KEYS):
        # Linux switches to a text console on Ctrl+Alt+F1–F12 before any program sees it,
        # and Ctrl+Alt+Del belongs to the system everywhere.
        raise ShortcutError(f"{text} belongs to the computer itself; choose another.")
    if not modifiers & {"Ctrl", "Alt", "Meta"}:
        raise ShortcutError(
            f"{text} would be taken from every program's typing; add Ctrl, Alt or Meta."
        )
    return Combination(frozenset(modifiers), name)


class RepeatFilter:
    """Lets through the first press of a held combination, not the key repeats after it."""

    def __init__(self, repeat_ms: int = REPEAT_MS) -> None:
        self._repeat_ms = repeat_ms
        self._last: int | None = None

    def press(self, time_ms: int) -> bool:
        """A press at the X server's time (milliseconds, wrapping at 2**32): True to act."""
        fresh = self._last is None or (time_ms - self._last) % 2**32 >= self._repeat_ms
        self._last = time_ms
        return fresh

    def release(self, time_ms: int) -> None:
        self._last = time_ms


class Backend(Protocol):
    """How one desktop lets a program hear a key combination meant for another."""

    def why_unavailable(self) -> str:
        """ "" where it can work, else the sentence the settings dialog shows."""
        ...

    def grab(self, combination: Combination, pressed: Callable[[], None]) -> str:
        """Listen for the combination instead of any earlier one; "" or why it failed.
        `pressed` is called on the backend's own thread."""
        ...

    def release(self) -> None:
        """Stop listening; returns once the desktop has the combination back."""
        ...


class Unavailable:
    """A desktop that gives programs no way to hear keys meant for others."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def why_unavailable(self) -> str:
        return self.reason

    def grab(self, combination: Combination, pressed: Callable[[], None]) -> str:
        return self.reason

    def release(self) -> None:
        pass


def system_backend(
    platform: str = sys.platform, environ: Mapping[str, str] = os.environ
) -> Backend:
    """The backend this desktop allows (X11, Windows), or why there is none."""
    if platform == "win32":
        return WindowsBackend()
    if platform == "darwin":
        return Unavailable(
            "On macOS ccmdesk cannot listen for keys pressed in other programs; use "
            f"{IN_APP} inside ccmdesk."
        )
    session = environ.get("XDG_SESSION_TYPE", "").lower()
    display = environ.get("DISPLAY", "")
    if session == "wayland" or (environ.get("WAYLAND_DISPLAY") and not display):
        return Unavailable(
            "Wayland does not let programs grab keys for the whole desktop; use "
            f"{IN_APP} inside ccmdesk."
        )
    if not display:
        return Unavailable(f"There is no X display here to listen on; use {IN_APP} inside ccmdesk.")
    try:
        import Xlib.display  # type: ignore[import-untyped]  # noqa: F401  (Linux only)
    except ImportError:
        return Unavailable(
            "python-xlib is not installed, so ccmdesk cannot listen for keys pressed in other "
            f"programs; use {IN_APP} inside ccmdesk."
        )
    return X11Backend(display)


def taken_sentence(combination: Combination) -> str:
    return f"{combination.text} is used by another program; choose another."


# --- X11 ------------------------------------------------------------------------------------


class X11Backend:
    """XGrabKey on the root window, from a thread with its own connection to the X server."""

    def __init__(self, display: str, repeat_ms: int = REPEAT_MS) -> None:
        self.display = display
        self.repeat_ms = repeat_ms
        self._listener: _X11Listener | None = None

    def why_unavailable(self) -> str:
        return ""

    def grab(self, combination: Combination, pressed: Callable[[], None]) -> str:
        self.release()
        listener = _X11Listener(self.display, combination, pressed, self.repeat_ms)
        listener.start()
        if not listener.ready.wait(GRAB_WAIT_SECONDS):
            listener.stop()
            return f"The X display {self.display} did not answer; try again."
        if listener.problem:
            listener.stop()  # ended already: this closes its wake-up pipe
            return listener.problem
        self._listener = listener
        return ""

    def release(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.stop()


class _X11Listener(threading.Thread):
    """Grabs the combination in every NumLock/CapsLock state, reads its key presses until
    told to stop, then gives the combination back and closes its connection."""

    def __init__(
        self,
        display: str,
        combination: Combination,
        pressed: Callable[[], None],
        repeat_ms: int,
    ) -> None:
        super().__init__(name="ccmdesk-global-shortcut", daemon=True)
        self._repeat_ms = repeat_ms
        self._display_name = display
        self._combination = combination
        self._pressed = pressed
        self.ready = threading.Event()
        self.problem = ""
        self._wake_read, self._wake_write = os.pipe()

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            os.write(self._wake_write, b"x")
        self.join(GRAB_WAIT_SECONDS)
        if self.is_alive():
            return  # stuck on a dead server: its pipe stays open for it (a daemon thread)
        for fd in (self._wake_read, self._wake_write):
            with contextlib.suppress(OSError):
                os.close(fd)

    def run(self) -> None:
        from Xlib import XK, X, error
        from Xlib.display import Display

        try:
            display = Display(self._display_name)
        except (error.DisplayError, OSError) as exc:
            log.warning("global shortcut: cannot open the X display: %s", type(exc).__name__)
            _close_sockets(exc)
            self.problem = f"ccmdesk cannot reach the X display {self._display_name}."
            self.ready.set()
            return
        try:
            self._listen(display, X, XK, error)
        except (error.ConnectionClosedError, OSError) as exc:
            # The X server went away (the session ended): nothing left to give back.
            log.warning("global shortcut: X connection lost: %s", type(exc).__name__)
            self._give_up(f"ccmdesk lost the X display {self._display_name}.")
        except Exception as exc:  # a thread's error would otherwise only reach stderr
            log_failure(log, "global shortcut listener", exc)
            self._give_up(f"ccmdesk could not listen for {self._combination.text}.")
        finally:
            with contextlib.suppress(error.ConnectionClosedError, OSError):
                display.close()

    def _give_up(self, problem: str) -> None:
        if not self.ready.is_set():
            self.problem = problem
            self.ready.set()

    def _listen(self, display: Any, X: Any, XK: Any, error: Any) -> None:
        root = display.screen().root
        keysym, _ = self._combination.x11()
        keycode = display.keysym_to_keycode(keysym)
        if not keycode:
            self.problem = f"This keyboard has no {self._combination.key} key; choose another."
            self.ready.set()
            return
        alt, num_lock, meta = (
            _modifier_mask(display, XK, name, default)
            for name, default in (
                ("Alt_L", MOD1_MASK),
                ("Num_Lock", MOD2_MASK),
                ("Super_L", MOD4_MASK),
            )
        )
        _, mask = self._combination.x11(alt, meta)
        # A grab matches modifiers exactly: CapsLock or NumLock on would otherwise miss it.
        variants = sorted({mask, mask | LOCK_MASK, mask | num_lock, mask | LOCK_MASK | num_lock})
        refused = error.CatchError()  # every error: none may go to python-xlib's stderr printer
        for modifiers in variants:
            root.grab_key(keycode, modifiers, True, X.GrabModeAsync, X.GrabModeAsync, refused)
        display.sync()  # the server's answer (BadAccess) arrives by now
        try:
            if refused.get_error() is not None:
                taken = isinstance(refused.get_error(), error.BadAccess)
                self.problem = (
                    taken_sentence(self._combination)
                    if taken
                    else f"The X server refused {self._combination.text}; choose another."
                )
                self.ready.set()
                return
            self.ready.set()
            self._read(display, keycode, X)
        finally:
            for modifiers in variants:
                root.ungrab_key(keycode, modifiers, error.CatchError())
            display.sync()

    def _read(self, display: Any, keycode: int, X: Any) -> None:
        repeats = RepeatFilter(self._repeat_ms)
        while True:
            # Events read along with an earlier reply wait in python-xlib's queue, not on the
            # socket: take them before waiting on it.
            for _ in range(display.pending_events()):
                event = display.next_event()
                if getattr(event, "detail", None) != keycode:
                    continue
                if event.type == X.KeyPress and repeats.press(event.time):
                    self._pressed()
                elif event.type == X.KeyRelease:
                    repeats.release(event.time)
            readable, _, _ = select.select([display.fileno(), self._wake_read], [], [])
            if self._wake_read in readable:
                return


def _close_sockets(failure: BaseException | None) -> None:
    """python-xlib leaves the sockets of a connection it could not make open (in the frames
    of the errors behind its own): closed here, or each attempt would leak them until garbage
    collection warns of it."""
    seen: set[int] = set()
    while failure is not None and id(failure) not in seen:
        seen.add(id(failure))
        trace = failure.__traceback__
        while trace is not None:
            for value in trace.tb_frame.f_locals.values():
                if isinstance(value, socket.socket):
                    value.close()
            trace = trace.tb_next
        failure = failure.__cause__ or failure.__context__


def _modifier_mask(display: Any, XK: Any, keysym_name: str, default: int) -> int:
    """The modifier bit the server gives this key (Alt, NumLock, Super), else the usual one."""
    keycode = display.keysym_to_keycode(XK.string_to_keysym(keysym_name))
    if keycode:
        for index, keycodes in enumerate(display.get_modifier_mapping()):
            if keycode in keycodes:
                return 1 << index
    return default


# --- Windows --------------------------------------------------------------------------------

WM_HOTKEY, WM_QUIT, WM_USER, PM_NOREMOVE = 0x0312, 0x0012, 0x0400, 0
ERROR_HOTKEY_ALREADY_REGISTERED = 1409
HOTKEY_ID = 0x0C0D  # an application's ids lie in 0x0000–0xBFFF (RegisterHotKey)


def _ctypes() -> Any:
    """ctypes with its Windows-only parts (typed for the platform mypy runs on)."""
    import ctypes

    return ctypes


def _win_dll(name: str) -> Any:
    return _ctypes().WinDLL(name, use_last_error=True)


class WindowsBackend:
    """RegisterHotKey for a thread of its own, whose message loop waits for WM_HOTKEY.

    Written to the Win32 documentation; the tests run it on Linux against a stand-in for
    user32 and kernel32 (`dll`), never against Windows itself."""

    def __init__(
        self,
        dll: Callable[[str], Any] | None = None,
        last_error: Callable[[], int] | None = None,
    ) -> None:
        self._dll = dll or _win_dll
        self._last_error = last_error or (lambda: int(_ctypes().get_last_error()))
        self._thread: threading.Thread | None = None
        self._thread_id = 0

    def why_unavailable(self) -> str:
        return ""

    def grab(self, combination: Combination, pressed: Callable[[], None]) -> str:
        self.release()
        ready = threading.Event()
        result: list[str] = []
        thread = threading.Thread(
            target=self._loop,
            args=(combination, pressed, ready, result),
            name="ccmdesk-global-shortcut",
            daemon=True,
        )
        thread.start()
        if not ready.wait(GRAB_WAIT_SECONDS):
            # Kept, so the next grab or the quit ends it: a registration that comes late
            # would otherwise hold the combination for as long as ccmdesk runs.
            self._thread = thread
            return "Windows did not answer; try again."
        if result and result[0]:
            thread.join(GRAB_WAIT_SECONDS)
            return result[0]
        self._thread = thread
        return ""

    def release(self) -> None:
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._dll("user32").PostThreadMessageW(self._thread_id, WM_QUIT, 0, 0)
        thread.join(GRAB_WAIT_SECONDS)

    def _loop(
        self,
        combination: Combination,
        pressed: Callable[[], None],
        ready: threading.Event,
        result: list[str],
    ) -> None:
        import ctypes
        from ctypes import wintypes

        user32, kernel32 = self._dll("user32"), self._dll("kernel32")
        message = wintypes.MSG()
        # The thread gets its message queue on its first user32 call; made now, so
        # release()'s WM_QUIT can never arrive before there is a queue to take it.
        user32.PeekMessageW(ctypes.byref(message), None, WM_USER, WM_USER, PM_NOREMOVE)
        self._thread_id = kernel32.GetCurrentThreadId()
        vk, mods = combination.windows()
        if not user32.RegisterHotKey(None, HOTKEY_ID, mods, vk):
            code = self._last_error()
            result.append(
                taken_sentence(combination)
                if code == ERROR_HOTKEY_ALREADY_REGISTERED
                else f"Windows refused {combination.text} (error {code}); choose another."
            )
            ready.set()
            return
        result.append("")
        ready.set()
        try:
            # GetMessageW returns 0 for WM_QUIT and -1 on error: both end the loop.
            while user32.GetMessageW(ctypes.byref(message), None, 0, 0) > 0:
                if message.message == WM_HOTKEY and message.wParam == HOTKEY_ID:
                    pressed()
        finally:
            user32.UnregisterHotKey(None, HOTKEY_ID)


# --- the Qt side ----------------------------------------------------------------------------


class _Relay(QObject):
    """Carries a press from the backend's thread to the GUI thread (a queued signal)."""

    pressed = Signal()


class GlobalShortcut(QObject):
    """The workstation's global shortcut: `activated` on the GUI thread at each press."""

    activated = Signal()

    def __init__(self, backend: Backend | None = None, parent: QObject | None = None) -> None:
        """No backend: this window listens for nothing (tests, and windows built without one)."""
        super().__init__(parent)
        self._backend: Backend = backend or Unavailable(
            f"This ccmdesk window has no global shortcut; use {IN_APP} inside ccmdesk."
        )
        self._relay = _Relay(self)
        self._relay.pressed.connect(self.activated, Qt.ConnectionType.QueuedConnection)
        self.combination: Combination | None = None  # the one grabbed now

    def available(self) -> bool:
        return not self._backend.why_unavailable()

    def why_unavailable(self) -> str:
        return self._backend.why_unavailable()

    def set_shortcut(self, text: str) -> str:
        """Listen for this combination instead ("" turns it off); "" or why it cannot be.
        A refused combination leaves none grabbed."""
        self.release()
        if not text.strip():
            return ""
        if not self.available():
            return self.why_unavailable()
        try:
            combination = parse_combination(text)
        except ShortcutError as problem:
            return str(problem)
        refused = self._backend.grab(combination, self._relay.pressed.emit)
        if not refused:
            self.combination = combination
        return refused

    def release(self) -> None:
        """Give the combination back (a change, or quitting)."""
        self.combination = None
        self._backend.release()
