"""Where rdsca keeps files of its own between runs: the per-user state directory (rotation journals, locks)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

#: Overrides the state directory (tests, or an operator who keeps journals with a change ticket).
STATE_DIR_ENV = "RDSCA_STATE_DIR"


def state_dir() -> Path:
    """``$RDSCA_STATE_DIR``, else the platform's per-user state directory (``~/.local/state/rdsca`` on Linux,
    ``$XDG_STATE_HOME/rdsca`` when set); created, private to the user, on first use."""
    configured = os.environ.get(STATE_DIR_ENV)
    path = Path(configured) if configured else platformdirs.user_state_path("rdsca", appauthor=False)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path
