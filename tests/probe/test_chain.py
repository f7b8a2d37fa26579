"""The one private ``ssl`` call (``rdsca/probe/_chain.py``): still where it is expected, on every Python found here."""

from __future__ import annotations

import glob
import os
import shutil
import ssl
import subprocess
import sys
import textwrap
from pathlib import Path

from rdsca.probe import _chain, wire

from .conftest import RDS_HOST, Pki


def test_the_chain_call_is_where_the_fence_expects_it() -> None:
    if _chain.PUBLIC:
        assert hasattr(ssl.SSLObject, "get_unverified_chain"), (
            f"Python {sys.version.split()[0]} has no public SSLObject.get_unverified_chain: fix rdsca/probe/_chain.py"
        )
    else:
        private = getattr(ssl, "_ssl", None)
        assert private is not None and hasattr(private._SSLSocket, "get_unverified_chain"), (
            f"Python {sys.version.split()[0]} lost _ssl._SSLSocket.get_unverified_chain: rdsca probe cannot read "
            "served chains; fix rdsca/probe/_chain.py"
        )
        assert hasattr(private, "ENCODING_DER")


def test_every_served_certificate_in_the_order_sent(tls, certs: Pki) -> None:
    served = wire.handshake("127.0.0.1", tls.port, wire.TLS, RDS_HOST)
    assert len(served.chain) == 2
    assert served.chain[0].subject.rfc4514_string().startswith(f"CN={RDS_HOST}")
    assert served.chain[1] == certs.rds_intermediate.cert


SCRIPT = textwrap.dedent(
    """
    import importlib.util, socket, ssl, sys, threading
    spec = importlib.util.spec_from_file_location("chain", sys.argv[1])
    chain = importlib.util.module_from_spec(spec); spec.loader.exec_module(chain)
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); server.load_cert_chain(sys.argv[2], sys.argv[3])
    listener = socket.create_server(("127.0.0.1", 0)); port = listener.getsockname()[1]
    def serve():
        conn, _ = listener.accept()
        with server.wrap_socket(conn, server_side=True) as tls:
            tls.recv(1)
    threading.Thread(target=serve, daemon=True).start()
    client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT); client.check_hostname = False; client.verify_mode = ssl.CERT_NONE
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = client.wrap_bio(incoming, outgoing)
    sock = socket.create_connection(("127.0.0.1", port))
    while True:
        try:
            tls.do_handshake(); break
        except ssl.SSLWantReadError:
            sock.sendall(outgoing.read()); incoming.write(sock.recv(65536))
    print(chain.PUBLIC, len(chain.served_chain(tls)))
    """
)


def _interpreters() -> list[str]:
    found = {sys.executable}
    roots = [os.environ.get("PYENV_ROOT", ""), str(Path.home() / ".pyenv")]
    for minor in (10, 11, 12, 13):
        exe = shutil.which(f"python3.{minor}")
        if exe:
            found.add(exe)
        for root in roots:
            found.update(glob.glob(f"{root}/versions/3.{minor}.*/bin/python3") if root else [])
    return sorted(found)


def test_on_every_python_found_here(certs: Pki, tmp_path: Path) -> None:
    """Run the fenced module, alone, under each CPython 3.10+ on this machine (3.10.13, 3.11.7, 3.12.1 and 3.13.0
    on the project's machines): both of its paths, not only this interpreter's."""
    script = tmp_path / "check.py"
    script.write_text(SCRIPT)
    cert, key = certs.chains["rds"]
    results = {}
    for python in _interpreters():
        version = subprocess.run(
            [python, "-c", "import sys; print(sys.version_info[:2] >= (3, 10))"], capture_output=True, text=True
        )
        if version.stdout.strip() != "True":
            continue
        done = subprocess.run(
            [python, str(script), _chain.__file__, str(cert), str(key)], capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, f"{python}: {done.stderr}"
        results[python] = done.stdout.split()
    print(f"fenced chain call checked under: {', '.join(results)}")
    assert results and all(count == "2" for _, count in results.values()), results
