"""How long the person has been away from keyboard and mouse, and whether the screen is locked."""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import sys
import time
from collections.abc import Callable
from typing import Protocol, TypeVar

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication

log = logging.getLogger(__name__)
T = TypeVar("T")

_INPUT_EVENTS = frozenset(
    {
        QEvent.Type.KeyPress,
        QEvent.Type.MouseButtonPress,
        QEvent.Type.MouseMove,
        QEvent.Type.Wheel,
        QEvent.Type.TouchBegin,
    }
)


class IdleSource(Protocol):
    def idle_seconds(self) -> float: ...

    def locked(self) -> bool: ...


class _XScreenSaverInfo(ctypes.Structure):
    _fields_ = [
        ("window", ctypes.c_ulong),
        ("state", ctypes.c_int),
        ("kind", ctypes.c_int),
        ("til_or_since", ctypes.c_ulong),
        ("idle", ctypes.c_ulong),
        ("eventMask", ctypes.c_ulong),
    ]


_SCREEN_SAVER_ON = 1


class _X11Idle:
    """System-wide idle time from the X screen-saver extension (libXss)."""

    def __init__(self) -> None:
        x11 = ctypes.CDLL(ctypes.util.find_library("X11") or "libX11.so.6")
        xss = ctypes.CDLL(ctypes.util.find_library("Xss") or "libXss.so.1")
        x11.XOpenDisplay.restype = ctypes.c_void_p
        x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
        x11.XDefaultRootWindow.restype = ctypes.c_ulong
        x11.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
        xss.XScreenSaverAllocInfo.restype = ctypes.POINTER(_XScreenSaverInfo)
        xss.XScreenSaverQueryInfo.argtypes = [
            ctypes.c_void_p,
            ctypes.c_ulong,
            ctypes.POINTER(_XScreenSaverInfo),
        ]
        self._display = x11.XOpenDisplay(None)
        if not self._display:
            raise OSError("no X display")
        self._root = x11.XDefaultRootWindow(self._display)
        self._info = xss.XScreenSaverAllocInfo()
        self._query = xss.XScreenSaverQueryInfo
        self._sample()  # fail now, not on the first tick, if the extension is missing

    def _sample(self) -> _XScreenSaverInfo:
        if not self._query(self._display, self._root, self._info):
            raise OSError("the X server has no screen-saver extension")
        info: _XScreenSaverInfo = self._info.contents
        return info

    def idle_seconds(self) -> float:
        idle: int = self._sample().idle
        return idle / 1000.0

    def locked(self) -> bool:
        # A screen saver that came on is how most X desktops lock the screen.
        state: int = self._sample().state
        return state == _SCREEN_SAVER_ON


class _WindowsIdle:
    """System-wide idle time from GetLastInputInfo; a locked session has no input desktop."""

    def __init__(self) -> None:
        class LastInputInfo(ctypes.Structure):
            _fields_ = [("cbSize", ctypes.c_uint), ("dwTime", ctypes.c_uint)]

        self._user32 = ctypes.windll.user32  # type: ignore[attr-defined]
        self._kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
        self._info = LastInputInfo()
        self._info.cbSize = ctypes.sizeof(LastInputInfo)
        self.idle_seconds()

    def idle_seconds(self) -> float:
        if not self._user32.GetLastInputInfo(ctypes.byref(self._info)):
            raise OSError("GetLastInputInfo failed")
        now: int = self._kernel32.GetTickCount() & 0xFFFFFFFF
        since: int = self._info.dwTime
        return ((now - since) & 0xFFFFFFFF) / 1000.0

    def locked(self) -> bool:
        desktop_switch = 0x0100
        handle = self._user32.OpenInputDesktop(0, False, desktop_switch)
        if not handle:
            return True
        self._user32.CloseDesktop(handle)
        return False


class AppIdle(QObject):
    """Input to ccmdesk's own windows only: the fallback where the system cannot be asked.

    It over-reports idleness while the nurse works in another program, so the idle question
    may come up during charting elsewhere; keeping the time then takes one reason.
    """

    def __init__(self, app: QApplication, monotonic: Callable[[], float] = time.monotonic) -> None:
        super().__init__(app)
        self._monotonic = monotonic
        self._last_input = monotonic()
        app.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in _INPUT_EVENTS:
            self._last_input = self._monotonic()
        return False

    def idle_seconds(self) -> float:
        return self._monotonic() - self._last_input

    def locked(self) -> bool:
        return False


class SystemIdle:
    """The best source this platform offers, falling back to ccmdesk's own windows."""

    def __init__(self, app: QApplication) -> None:
        self._fallback = AppIdle(app)
        self._system: _X11Idle | _WindowsIdle | None = None
        try:
            if sys.platform == "win32":
                self._system = _WindowsIdle()
            elif os.environ.get("DISPLAY") and app.platformName() == "xcb":
                self._system = _X11Idle()
        except (OSError, AttributeError) as error:
            log.info("system idle time unavailable (%s); watching ccmdesk's windows", error)
            self._system = None

    @property
    def source(self) -> str:
        return type(self._system or self._fallback).__name__

    def idle_seconds(self) -> float:
        return self._ask(lambda source: source.idle_seconds())

    def locked(self) -> bool:
        # ccmdesk's own windows cannot tell a locked system: they answer False.
        return self._ask(lambda source: source.locked())

    def _ask(self, question: Callable[[IdleSource], T]) -> T:
        """The system's answer; once the system fails, ccmdesk's own windows' for good."""
        if self._system is not None:
            try:
                return question(self._system)
            except OSError:
                self._system = None
        return question(self._fallback)
