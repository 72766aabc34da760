"""The global shortcut: parsing combinations, which desktops allow it, and a real X11 grab."""

from __future__ import annotations

import os
import queue
import subprocess
import threading
from collections.abc import Iterator

import pytest
from Xlib import XK, X, error
from Xlib.display import Display
from Xlib.ext import xtest

from ccmdesk.ui.global_shortcut import (
    CONTROL_MASK,
    ERROR_HOTKEY_ALREADY_REGISTERED,
    HOTKEY_ID,
    MOD1_MASK,
    MOD4_MASK,
    MOD_ALT,
    MOD_CONTROL,
    MOD_NOREPEAT,
    MOD_SHIFT,
    MOD_WIN,
    SHIFT_MASK,
    WM_HOTKEY,
    WM_QUIT,
    Combination,
    GlobalShortcut,
    RepeatFilter,
    ShortcutError,
    Unavailable,
    WindowsBackend,
    X11Backend,
    parse_combination,
    system_backend,
)


def test_a_key_sequence_becomes_x11_and_windows_keys() -> None:
    combination = parse_combination("Ctrl+Alt+Shift+S")
    assert combination == Combination(frozenset({"Ctrl", "Alt", "Shift"}), "S")
    assert combination.x11() == (XK.XK_s, CONTROL_MASK | MOD1_MASK | SHIFT_MASK)
    assert combination.windows() == (0x53, MOD_CONTROL | MOD_ALT | MOD_SHIFT | MOD_NOREPEAT)
    f9 = parse_combination("Meta+Ctrl+F9")
    assert f9.x11() == (XK.XK_F9, MOD4_MASK | CONTROL_MASK)
    assert f9.windows() == (0x78, MOD_WIN | MOD_CONTROL | MOD_NOREPEAT)
    assert parse_combination("Ctrl+Alt+PgDown").x11()[0] == XK.XK_Next
    assert parse_combination("Alt+Space").windows() == (0x20, MOD_ALT | MOD_NOREPEAT)
    assert parse_combination("Ctrl+Alt+7").x11() == (XK.XK_7, CONTROL_MASK | MOD1_MASK)
    # Typed by hand into settings.json: any case, Qt's names or the desktop's.
    typed = parse_combination(" control+super+shift+f12 ")
    assert typed.text == "Meta+Ctrl+Shift+F12"
    assert typed.x11()[0] == XK.XK_F12


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "Press a key combination"),
        ("S", "add Ctrl, Alt or Meta"),
        ("Shift+F5", "add Ctrl, Alt or Meta"),
        ("Ctrl+A, Ctrl+B", "several key presses"),
        ("Ctrl+Alt+Print", "cannot use Print"),
        ("Ctrl++", "is not a combination"),
        ("Hyper+S", "is not a combination"),
        ("Ctrl+Alt+Esc", "cannot use Esc"),
        ("Ctrl+Alt+F2", "belongs to the computer itself"),
        ("Ctrl+Alt+Shift+F12", "belongs to the computer itself"),
        ("Ctrl+Alt+Del", "belongs to the computer itself"),
    ],
)
def test_a_combination_that_cannot_be_global_is_refused_with_a_sentence(
    text: str, says: str
) -> None:
    with pytest.raises(ShortcutError, match=says):
        parse_combination(text)


def test_a_held_combination_toggles_once() -> None:
    repeats = RepeatFilter(600)
    assert repeats.press(10_000)
    assert not repeats.press(10_500)  # the key repeating while held
    repeats.release(10_530)
    assert not repeats.press(10_540)  # X11's repeat: a release and a press together
    repeats.release(12_000)
    assert repeats.press(12_700)  # pressed again after letting go
    assert repeats.press((12_700 + 2_000) % 2**32)
    wrap = RepeatFilter(600)
    assert wrap.press(2**32 - 100)
    assert not wrap.press(200)  # the server's clock wrapped: still 300 ms later


@pytest.mark.parametrize(
    ("platform", "environ", "says"),
    [
        ("linux", {"XDG_SESSION_TYPE": "wayland", "DISPLAY": ":0"}, "Wayland does not let"),
        ("linux", {"WAYLAND_DISPLAY": "wayland-0"}, "Wayland does not let"),
        ("linux", {}, "no X display"),
        ("darwin", {}, "On macOS"),
    ],
)
def test_where_the_desktop_does_not_allow_it_the_reason_is_plain(
    platform: str, environ: dict[str, str], says: str
) -> None:
    backend = system_backend(platform, environ)
    assert isinstance(backend, Unavailable)
    assert says in backend.why_unavailable()
    assert "Ctrl+Space inside ccmdesk" in backend.why_unavailable()
    shortcut = GlobalShortcut(backend)
    assert not shortcut.available()
    assert says in shortcut.set_shortcut("Ctrl+Alt+Shift+S")
    assert shortcut.combination is None


def test_x11_and_windows_sessions_get_their_backends() -> None:
    x11 = system_backend("linux", {"DISPLAY": ":5", "XDG_SESSION_TYPE": "x11"})
    assert isinstance(x11, X11Backend) and x11.display == ":5"
    assert isinstance(system_backend("win32", {}), WindowsBackend)


def test_a_window_without_a_backend_listens_for_nothing() -> None:
    shortcut = GlobalShortcut()
    assert not shortcut.available()
    assert "Ctrl+Space" in shortcut.why_unavailable()
    assert shortcut.set_shortcut("") == ""  # off is always fine


# --- a real X server ------------------------------------------------------------------------


@pytest.fixture
def x_display() -> Iterator[str]:
    """A private Xvfb on a display number it picks itself (never the desktop's)."""
    read, write = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-screen", "0", "640x480x24", "-nolisten", "tcp"],
        pass_fds=(write,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    with os.fdopen(read) as numbers:
        number = numbers.readline().strip()
    assert number, "Xvfb did not start"
    yield f":{number}"
    server.terminate()
    server.wait(10)


def press(display: Display, *names: str) -> None:
    """Press the keys in order and let them go in reverse, as a person does (XTEST)."""
    codes = [display.keysym_to_keycode(XK.string_to_keysym(name)) for name in names]
    for code in codes:
        xtest.fake_input(display, X.KeyPress, code)
    for code in reversed(codes):
        xtest.fake_input(display, X.KeyRelease, code)
    display.sync()


def test_the_combination_pressed_anywhere_reaches_the_gui_thread(qtbot, x_display: str) -> None:
    # Presses a few milliseconds apart (XTEST) are not a held key's repeats here.
    shortcut = GlobalShortcut(X11Backend(x_display, repeat_ms=0))
    assert shortcut.available()
    assert shortcut.set_shortcut("Ctrl+Alt+Shift+S") == ""
    keyboard = Display(x_display)
    try:
        press(keyboard, "Caps_Lock")  # CapsLock on: still heard
        with qtbot.waitSignal(shortcut.activated, timeout=5000):
            press(keyboard, "Control_L", "Alt_L", "Shift_L", "s")
        press(keyboard, "Caps_Lock")
        with qtbot.waitSignal(shortcut.activated, timeout=5000):
            press(keyboard, "Control_L", "Alt_L", "Shift_L", "s")
        # Changed: the old combination goes back to the desktop, the new one is heard.
        assert shortcut.set_shortcut("Ctrl+Shift+F9") == ""
        with qtbot.waitSignal(shortcut.activated, timeout=5000):
            press(keyboard, "Control_L", "Shift_L", "F9")
        shortcut.release()
        assert grabbed_by(keyboard, XK.XK_s, CONTROL_MASK | MOD1_MASK | SHIFT_MASK)
        assert grabbed_by(keyboard, XK.XK_F9, CONTROL_MASK | SHIFT_MASK)
    finally:
        shortcut.release()
        keyboard.close()


def grabbed_by(display: Display, keysym: int, modifiers: int) -> bool:
    """Whether this client can grab the combination (nobody else holds it)."""
    refused = error.CatchError(error.BadAccess)
    code = display.keysym_to_keycode(keysym)
    root = display.screen().root
    root.grab_key(code, modifiers, True, X.GrabModeAsync, X.GrabModeAsync, refused)
    display.sync()
    if refused.get_error() is None:
        root.ungrab_key(code, modifiers)
        display.sync()
        return True
    return False


def test_a_combination_another_program_holds_is_refused_with_a_sentence(x_display: str) -> None:
    other = Display(x_display)
    try:
        assert grabbed_by(other, XK.XK_s, CONTROL_MASK | MOD1_MASK | SHIFT_MASK) is True
        code = other.keysym_to_keycode(XK.XK_s)
        mask = CONTROL_MASK | MOD1_MASK | SHIFT_MASK
        other.screen().root.grab_key(code, mask, True, X.GrabModeAsync, X.GrabModeAsync)
        other.sync()
        shortcut = GlobalShortcut(X11Backend(x_display))
        open_files = len(os.listdir("/proc/self/fd"))
        assert shortcut.set_shortcut("Ctrl+Alt+Shift+S") == (
            "Ctrl+Alt+Shift+S is used by another program; choose another."
        )
        assert shortcut.combination is None
        assert len(os.listdir("/proc/self/fd")) == open_files  # its connection and pipe closed
        assert shortcut.set_shortcut("Ctrl+Alt+Shift+D") == ""  # another is free
        shortcut.release()
    finally:
        other.close()


def test_an_x_display_that_cannot_be_reached_is_a_sentence() -> None:
    shortcut = GlobalShortcut(X11Backend(":987"))
    assert shortcut.set_shortcut("Ctrl+Alt+Shift+S") == "ccmdesk cannot reach the X display :987."


# --- Windows, against a stand-in for user32 and kernel32 --------------------------------------


class FakeUser32:
    """The few user32/kernel32 calls the Windows backend makes, over a Python queue: a thread's
    message queue, and the hot keys another program holds."""

    def __init__(self, taken: set[tuple[int, int]]) -> None:
        self.taken = taken
        self.registered: dict[int, tuple[int, int]] = {}
        self.messages: queue.Queue[tuple[int, int]] = queue.Queue()
        self.error = 0

    def PeekMessageW(self, *_args: object) -> int:
        return 0

    def GetCurrentThreadId(self) -> int:
        return threading.get_ident()

    def RegisterHotKey(self, _window: None, ident: int, mods: int, vk: int) -> int:
        if (vk, mods & ~MOD_NOREPEAT) in self.taken:
            self.error = ERROR_HOTKEY_ALREADY_REGISTERED
            return 0
        self.registered[ident] = (vk, mods)
        return 1

    def UnregisterHotKey(self, _window: None, ident: int) -> int:
        return 1 if self.registered.pop(ident, None) else 0

    def GetMessageW(self, message: object, *_args: object) -> int:
        kind, param = self.messages.get(timeout=5)
        target = message._obj  # type: ignore[attr-defined]  # what ctypes.byref points at
        target.message, target.wParam = kind, param
        return 0 if kind == WM_QUIT else 1

    def PostThreadMessageW(self, _thread: int, kind: int, param: int, _lparam: int) -> int:
        self.messages.put((kind, param))
        return 1

    def hot_key(self, ident: int = HOTKEY_ID) -> None:
        """The combination pressed: Windows posts WM_HOTKEY to the registering thread."""
        self.messages.put((WM_HOTKEY, ident))


def test_windows_registers_the_hot_key_in_its_own_thread_and_gives_it_back(qtbot) -> None:
    ctrl_alt_shift_d = (0x44, MOD_CONTROL | MOD_ALT | MOD_SHIFT)
    user32 = FakeUser32(taken={ctrl_alt_shift_d})
    backend = WindowsBackend(dll=lambda _name: user32, last_error=lambda: user32.error)
    shortcut = GlobalShortcut(backend)
    assert shortcut.set_shortcut("Ctrl+Alt+Shift+S") == ""
    assert user32.registered == {HOTKEY_ID: (0x53, ctrl_alt_shift_d[1] | MOD_NOREPEAT)}
    with qtbot.waitSignal(shortcut.activated, timeout=5000):
        user32.hot_key()
    assert shortcut.set_shortcut("Ctrl+Alt+Shift+D") == (
        "Ctrl+Alt+Shift+D is used by another program; choose another."
    )
    assert user32.registered == {}  # the old one given back before asking for the new
    assert shortcut.set_shortcut("Meta+Ctrl+F9") == ""
    listening = backend._thread
    assert listening is not None and listening.is_alive()
    shortcut.release()  # WM_QUIT ends its message loop
    assert user32.registered == {} and not listening.is_alive()


class SlowUser32(FakeUser32):
    """Windows taking its time over RegisterHotKey, past the wait for it."""

    def __init__(self) -> None:
        super().__init__(taken=set())
        self.go_on = threading.Event()

    def RegisterHotKey(self, _window: None, ident: int, mods: int, vk: int) -> int:
        self.go_on.wait(5)
        return super().RegisterHotKey(_window, ident, mods, vk)


def test_a_windows_registration_that_comes_late_is_given_back(qtbot, monkeypatch) -> None:
    import ccmdesk.ui.global_shortcut as module

    monkeypatch.setattr(module, "GRAB_WAIT_SECONDS", 0.2)
    user32 = SlowUser32()
    backend = WindowsBackend(dll=lambda _name: user32, last_error=lambda: user32.error)
    shortcut = GlobalShortcut(backend)
    assert shortcut.set_shortcut("Ctrl+Alt+Shift+S") == "Windows did not answer; try again."
    user32.go_on.set()  # Windows registers it after all
    qtbot.waitUntil(lambda: bool(user32.registered), timeout=5000)
    monkeypatch.setattr(module, "GRAB_WAIT_SECONDS", 5)
    shortcut.release()
    assert user32.registered == {}
