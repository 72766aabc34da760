"""What makes an acceptable password or PIN (NIST SP 800-63B: length, not composition)."""

from __future__ import annotations

MIN_PASSWORD = 8
MAX_PASSWORD = 128
PIN_DIGITS = (4, 8)

# The passwords tried first by anyone guessing; a workstation shared by a clinic must refuse them.
COMMON = frozenset(
    {
        "password", "password1", "password123", "passw0rd", "12345678", "123456789",
        "1234567890", "87654321", "11111111", "00000000", "qwerty123", "qwertyuiop",
        "iloveyou", "letmein1", "welcome1", "abc12345", "admin123", "administrator",
        "changeme", "ccmdesk1", "ccmdesk123", "medicare", "nurse123", "doctor123",
    }
)  # fmt: skip


def password_problem(password: str, staff_id: str = "", name: str = "") -> str | None:
    """Why this password may not be used, in a sentence; None when it may."""
    if len(password) < MIN_PASSWORD:
        return f"A password has at least {MIN_PASSWORD} characters."
    if len(password) > MAX_PASSWORD:
        return f"A password has at most {MAX_PASSWORD} characters."
    folded = password.casefold()
    if password.strip() != password:
        return "A password may not start or end with a space."
    if folded in COMMON or len(set(folded)) == 1:
        return "That password is among the first ones anyone would guess; choose another."
    if staff_id and folded == staff_id.casefold():
        return "A password may not be the staff id."
    if name and folded.replace(" ", "") == name.casefold().replace(" ", ""):
        return "A password may not be the person's name."
    return None


def pin_problem(pin: str) -> str | None:
    """Why this PIN may not be used; None when it may. A PIN only unlocks one's own screen."""
    low, high = PIN_DIGITS
    if not (pin.isascii() and pin.isdigit()) or not low <= len(pin) <= high:
        return f"A PIN is {low} to {high} digits."
    if len(set(pin)) == 1 or pin in "0123456789" or pin in "9876543210":
        return "That PIN is too easy to guess (one digit repeated, or a run); choose another."
    return None
