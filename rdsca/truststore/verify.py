"""Verify a chain in a file against a store, with the one verifier ``rdsca.chains`` (as ``rdsca probe`` does)."""


import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509

from rdsca import chains
from rdsca.truststore.entries import Entry, classify


@dataclass
class Verification:
    chain: list[Entry]
    #: The trusted root the chain ends at, or None.
    root: Entry | None
    #: (code, sentence), as ``rdsca.chains`` gives them.
    problems: list[tuple[str, str]]

    @property
    def ok(self) -> bool:
        return self.root is not None and not self.problems


def verify(chain: Sequence[x509.Certificate], trusted: Sequence[Entry], today: dt.date) -> Verification:
    """Whether a client trusting ``trusted`` accepts ``chain`` (the server's certificate first) on ``today``: the one
    verifier, ``rdsca.chains``, that ``rdsca probe`` uses too."""
    if not chain:
        return Verification([], None, [("empty", "no certificate in the chain file")])
    verdict = chains.verify(chain, [e.cert for e in trusted if e.root], [e.cert for e in trusted if not e.root], today)
    root = next((e for e in trusted if e.root and e.cert == verdict.anchor), None)
    return Verification([classify(c) for c in verdict.path], root, verdict.problems)
