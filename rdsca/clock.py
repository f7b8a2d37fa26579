"""What "today" is for every date judgement: pinned by ``--as-of`` or the ``RDSCA_AS_OF`` environment variable."""

from __future__ import annotations

import datetime as dt
import functools
import os

#: Environment variable that pins "today" (``YYYY-MM-DD``) for this process and every subprocess it starts
#: (the program under ``rdsca check``, a policy pack, tests). ``--as-of`` sets it.
AS_OF_ENV = "RDSCA_AS_OF"
#: Set while ``rdsca check`` runs a program: rdsca's component then writes a target CA that has expired in a
#: database's region (a question asked with ``--as-of``) and warns, so that the check reports it as a finding,
#: instead of refusing it as it does in a real deployment.
CHECK_ENV = "RDSCA_CHECK"


def parse_date(text: str) -> dt.date:
    """Parse ``YYYY-MM-DD``; raise ``ValueError`` with a message fit for a user."""
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"invalid date {text!r}: expected YYYY-MM-DD, for example 2026-11-27") from None


def today() -> dt.date:
    """Today in UTC, unless ``RDSCA_AS_OF`` pins it."""
    pinned = os.environ.get(AS_OF_ENV)
    if pinned:
        return _parse_cached(pinned)
    return dt.datetime.now(dt.timezone.utc).date()


@functools.lru_cache(maxsize=16)
def _parse_cached(text: str) -> dt.date:
    return parse_date(text)
