"""The certificates a TLS server sent, as it sent them: the one place that reaches into a private ``ssl`` API.

Python 3.13 made ``SSLObject.get_unverified_chain()`` public; it returns each certificate as DER bytes. Python
3.10 to 3.12 have the same call only on the private ``_ssl._SSLSocket`` that ``SSLObject._sslobj`` holds (added in
3.10 beside ``get_verified_chain``), returning ``_ssl.Certificate`` objects whose ``public_bytes(ENCODING_DER)``
is the DER. Both paths were checked against CPython 3.10.13, 3.11.7, 3.12.1 and 3.13.0 (OpenSSL 3.0.19);
``tests/probe/test_chain.py`` fails loudly if either disappears.

Why the standard library rather than pyOpenSSL, whose ``Connection.get_peer_cert_chain()`` is public on every
version: the probe needs nothing else from it (the chain is judged offline, as of ``--as-of``, which no TLS
library's handshake can do), and these few lines cost less than a second TLS stack as a runtime dependency.
"""

from __future__ import annotations

import ssl
import sys

#: Where the call lives on this interpreter (the tests check both stay where this module expects them).
PUBLIC = sys.version_info >= (3, 13)


def served_chain(tls: ssl.SSLObject) -> list[bytes]:
    """DER of every certificate the peer sent, its own first; empty when it sent none."""
    if PUBLIC:
        return [bytes(der) for der in tls.get_unverified_chain() or []]  # type: ignore[attr-defined,unused-ignore]
    private = tls._sslobj.get_unverified_chain()  # type: ignore[attr-defined]
    encoding = ssl._ssl.ENCODING_DER  # type: ignore[attr-defined]
    return [cert.public_bytes(encoding) for cert in private or []]
