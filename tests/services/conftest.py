"""Service test fixtures: the demo practice, built once per test that asks for it."""

from __future__ import annotations

import pytest

from ccmdesk.db import Database
from ccmdesk.services import Services
from tests.helpers.common import CLI, FAST_HASHER, NOW


@pytest.fixture
def demo(db: Database) -> Services:
    """The demo practice (services/demo.py) on a fresh database, its clock stopped at NOW."""
    services = Services(db, clock=lambda: NOW, hasher=FAST_HASHER)
    services.demo.create(CLI)
    return services
