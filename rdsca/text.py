"""How a message quotes a value it did not write (a CA identifier from a file, a name from an account)."""

from __future__ import annotations

from typing import Any

#: The most characters of a value a message quotes (a 5 MB string must not be echoed into every line that names it).
QUOTE_LIMIT = 80


def shorten(text: str, limit: int = QUOTE_LIMIT) -> str:
    """``text`` as a message quotes it: whole when short, else its start and how much was left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit} more characters)"


def quoted(value: Any) -> str:
    """``repr`` of a value a message names, shortened: ``'rds-ca-2019'``, ``5``, ``'xxxx... (4999920 more...)'``."""
    return repr(shorten(value)) if isinstance(value, str) else shorten(repr(value))
