"""The one base of rdsca's expected errors: a message and an optional hint, mapped once by the CLI to exit 2.

Any failure that stops a job because of its input or environment (a bad file, a missing tool, an unreachable
endpoint) raises a subclass of `RdscaError`; anything else reaching the CLI is a bug and is reported as an internal
error. Findings are never errors: they are results, exit 1.
"""

from __future__ import annotations


class RdscaError(Exception):
    """An expected failure: `message` says what went wrong, `hint` (optional) what the user can do about it."""

    def __init__(self, message: str = "", hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self._hint = hint

    @property
    def hint(self) -> str | None:
        """One more line saying what the user can do about it, when rdsca knows (subclasses may compute it)."""
        return self._hint


class MissingExtra(RdscaError):
    """A job that needs an optional part of rdsca that is not installed (``pip install 'rdsca[EXTRA]'``)."""


#: What each extra brings, by the module a job imports first.
EXTRAS = {"pulumi": "pulumi", "pulumi_policy": "pulumi", "pulumi_aws": "pulumi", "grpc": "pulumi", "moto": "demo"}


def require(module: str, what: str) -> None:
    """Raise ``MissingExtra`` naming the extra to install when ``module`` cannot be imported."""
    import importlib.util

    if importlib.util.find_spec(module) is None:
        extra = EXTRAS[module]
        raise MissingExtra(f"{what} needs rdsca[{extra}], which is not installed here",
                           hint=f"pip install 'rdsca[{extra}]' (from a clone: pip install '.[{extra}]')")
