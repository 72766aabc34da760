"""Widgets and table helpers the pages and dialogs share."""
