"""ccmdesk: Chronic Care Management time tracking and month-end billing for the desktop."""

__version__ = "0.1.0"
