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


#: The days a date may be judged as of: every CA rdsca knows ends by 2123, and date arithmetic on a day near the end
#: of the calendar (year 9999) would overflow.
EARLIEST, LATEST = dt.date(1970, 1, 1), dt.date(8999, 12, 31)


def parse_date(text: str) -> dt.date:
    """Parse ``YYYY-MM-DD``; raise ``ValueError`` with a message fit for a user."""
    try:
        day = dt.date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"invalid date {text!r}: expected YYYY-MM-DD, for example 2026-11-27") from None
    if not EARLIEST <= day <= LATEST:
        raise ValueError(f"date {text!r} out of range: from {EARLIEST.isoformat()} to {LATEST.isoformat()}")
    return day


def now() -> dt.datetime:
    """The wall clock, in UTC: the one place rdsca reads it (tests replace this function to fix the moment)."""
    return dt.datetime.now(dt.timezone.utc)


def today() -> dt.date:
    """Today in UTC, unless ``RDSCA_AS_OF`` pins it."""
    pinned = os.environ.get(AS_OF_ENV)
    if pinned:
        return _parse_cached(pinned)
    return now().date()


@functools.lru_cache(maxsize=16)
def _parse_cached(text: str) -> dt.date:
    return parse_date(text)


#: The default look-ahead of "expires soon" (the expiring-CA policy, ``audit --expiring-days``): 180 days, the
#: notice AWS gave before rds-ca-2019 expired (first notices about six months ahead, RDS rotation guide).
EXPIRING_DAYS = 180


def utc_iso(moment: dt.datetime) -> str:
    """A moment as rdsca writes it everywhere (JSON, journals, locks, the fake account): ISO 8601 in UTC, to the
    second, ``Z`` suffix, as AWS's own APIs write timestamps."""
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def utc_now() -> str:
    """Now, as ``utc_iso`` writes it (the wall clock: journal and lock times are not judgements of dates)."""
    return utc_iso(now())


def instant(day: dt.date) -> dt.datetime:
    """The moment a certificate's validity is judged at on ``day``: now, when ``day`` is today and not pinned (a
    certificate issued an hour ago is valid now); else noon UTC of that day (``--as-of`` names a day, not an hour)."""
    moment = now()
    if not os.environ.get(AS_OF_ENV) and day == moment.date():
        return moment
    return dt.datetime.combine(day, dt.time(12), dt.timezone.utc)
