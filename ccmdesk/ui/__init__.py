"""PySide6 windows, pages, dialogs and table models."""
