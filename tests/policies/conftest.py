from __future__ import annotations

import pytest

from .harness import Pack


@pytest.fixture
def pack() -> Pack:
    """Every rdsca policy, configured by nothing: each applies its own defaults (as with no Configure call)."""
    return Pack()
