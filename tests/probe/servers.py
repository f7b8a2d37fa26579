"""Real servers on loopback for the probe tests: PostgreSQL and MariaDB (started here, installed from Debian's
packages when missing and running as root on Debian), and small in-test servers that do a real TLS handshake
inside TDS framing (SQL Server) or straight away (Oracle TCPS, DocumentDB)."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..installs import Unavailable, _is_root, apt_install


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes] | None, log: Path | None, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            text = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
            raise RuntimeError(f"server exited with {process.returncode}: {text}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port} after {seconds} s")


# -- PostgreSQL --------------------------------------------------------------------------------------------------


def postgres_bin() -> Path:
    def find() -> Path | None:
        found = shutil.which("postgres")
        if found:
            return Path(found).resolve().parent
        candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"))
        return Path(candidates[-1]).parent if candidates else None

    directory = find()
    if directory is None:
        apt_install("postgresql")
        directory = find()
    if directory is None:
        raise Unavailable("PostgreSQL is not installed")
    return directory


@dataclass
class Server:
    port: int
    stop: Callable[[], None]
    name: str = ""
    log: Path | None = None
    extra: dict[str, object] = field(default_factory=dict)


NOBODY = 65534


def _as_postgres_user(directory: Path) -> dict[str, object]:
    """Popen arguments that run initdb and postgres as nobody when we are root (they refuse to run as root), in a
    directory nobody owns; Popen's own user switch, so that signals reach postgres itself."""
    if not _is_root():
        return {}
    os.chown(directory, NOBODY, NOBODY)
    for path in directory.rglob("*"):
        os.chown(path, NOBODY, NOBODY)
    return {"user": NOBODY, "group": NOBODY, "extra_groups": []}


def start_postgres(cert: Path, key: Path, ssl_on: bool = True, template: Path | None = None) -> Server:
    """A PostgreSQL cluster of its own on a free loopback port; ``template`` is an initdb'd directory to copy."""
    binaries = postgres_bin()
    root = Path(tempfile.mkdtemp(prefix="rdsca-pg-"))
    data = root / "data"
    if template is not None:
        shutil.copytree(template, data, symlinks=True)
    shutil.copy(cert, root / "server.crt")
    shutil.copy(key, root / "server.key")
    (root / "server.key").chmod(0o600)
    runner = _as_postgres_user(root)
    if template is None:
        subprocess.run(
            [str(binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync"],
            check=True,
            capture_output=True,
            **runner,  # type: ignore[call-overload]
        )
    data.chmod(0o700)
    port = free_port()
    log = root / "server.log"
    settings = {
        "listen_addresses": "127.0.0.1",
        "port": str(port),
        "unix_socket_directories": str(root),
        "ssl": "on" if ssl_on else "off",
        "ssl_cert_file": str(root / "server.crt"),
        "ssl_key_file": str(root / "server.key"),
        "fsync": "off",
        "shared_buffers": "16MB",
        "max_connections": "40",
    }
    args = [arg for name, value in settings.items() for arg in ("-c", f"{name}={value}")]
    with open(log, "wb") as out:
        if runner:
            os.chown(log, NOBODY, NOBODY)
        process = subprocess.Popen(
            [str(binaries / "postgres"), "-D", str(data), *args], stdout=out, stderr=subprocess.STDOUT, **runner
        )
    wait_for_port(port, process, log)

    def stop() -> None:
        process.send_signal(signal.SIGINT)  # fast shutdown
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=20)
        if process.poll() is None:
            process.kill()
        shutil.rmtree(root, ignore_errors=True)

    return Server(port, stop, "postgres", log, {"data": data})


def postgres_template() -> Path:
    """One initdb'd data directory to copy for each cluster (initdb is the slow part)."""
    binaries = postgres_bin()
    root = Path(tempfile.mkdtemp(prefix="rdsca-pg-template-"))
    runner = _as_postgres_user(root)
    data = root / "data"
    subprocess.run(
        [str(binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync"],
        check=True,
        capture_output=True,
        **runner,  # type: ignore[call-overload]
    )
    return data


# -- MariaDB -----------------------------------------------------------------------------------------------------


def mariadb_bin() -> tuple[Path, Path]:
    def find() -> tuple[Path, Path] | None:
        server = shutil.which("mariadbd") or shutil.which("mariadbd", path="/usr/sbin:/usr/local/sbin")
        install = shutil.which("mariadb-install-db")
        return (Path(server), Path(install)) if server and install else None

    found = find()
    if found is None:
        apt_install("mariadb-server")
        found = find()
    if found is None:
        raise Unavailable("MariaDB is not installed")
    return found


def mariadb_template() -> Path:
    _, install = mariadb_bin()
    data = Path(tempfile.mkdtemp(prefix="rdsca-mariadb-template-")) / "data"
    user = ["--user=root"] if _is_root() else []
    subprocess.run(
        [
            str(install),
            "--no-defaults",
            f"--datadir={data}",
            "--skip-test-db",
            "--auth-root-authentication-method=normal",
            *user,
        ],
        check=True,
        capture_output=True,
    )
    return data


def start_mariadb(template: Path, cert: Path | None, key: Path | None, ca: Path | None) -> Server:
    """A MariaDB server on a free loopback port; TLS on with ``cert``/``key``, off (``--skip-ssl``) without."""
    server_bin, _ = mariadb_bin()
    root = Path(tempfile.mkdtemp(prefix="rdsca-mariadb-"))
    data = root / "data"
    shutil.copytree(template, data, symlinks=True)
    port = free_port()
    log = root / "error.log"
    tls = [f"--ssl-cert={cert}", f"--ssl-key={key}", f"--ssl-ca={ca}"] if cert and key and ca else ["--skip-ssl"]
    args = [
        str(server_bin),
        "--no-defaults",
        f"--datadir={data}",
        f"--port={port}",
        "--bind-address=127.0.0.1",
        f"--socket={root / 'mysqld.sock'}",
        f"--pid-file={root / 'mysqld.pid'}",
        f"--log-error={log}",
        "--skip-log-bin",
        "--innodb-buffer-pool-size=16M",
        "--skip-name-resolve",
        *tls,
    ]
    if _is_root():
        args.append("--user=root")
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_port(port, process, log)

    def stop() -> None:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=30)
        if process.poll() is None:
            process.kill()
        shutil.rmtree(root, ignore_errors=True)

    return Server(port, stop, "mariadb", log, {"socket": root / "mysqld.sock"})


# -- in-test servers -----------------------------------------------------------------------------------------------


class _Listener:
    """Accept on a loopback port and hand each connection to ``serve`` on its own thread."""

    def __init__(self, serve: Callable[[socket.socket], None]) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = int(self.sock.getsockname()[1])
        self.serve = serve
        self.events: list[str] = []
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn: socket.socket) -> None:
        conn.settimeout(10)
        with conn:
            try:
                self.serve(conn)
            except (OSError, ssl.SSLError, ValueError) as exc:
                self.events.append(f"error: {exc}")

    def close(self) -> None:
        self.sock.close()


def server_context(
    cert: Path, key: Path, sni: dict[str, tuple[Path, Path]] | None = None, max_tls12: bool = False
) -> ssl.SSLContext:
    """A server context; ``sni`` maps a requested server name to another certificate chain and key."""

    def make(c: Path, k: Path) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(c, k)
        context.num_tickets = 0
        if max_tls12:
            context.maximum_version = ssl.TLSVersion.TLSv1_2
        return context

    main = make(cert, key)
    others = {name: make(c, k) for name, (c, k) in (sni or {}).items()}

    def choose(sock: ssl.SSLObject, name: str | None, _: ssl.SSLContext) -> None:
        if name in others:
            sock.context = others[name]

    main.sni_callback = choose  # type: ignore[assignment]
    return main


def tls_server(context: ssl.SSLContext) -> _Listener:
    """TLS from the first byte, as Oracle TCPS and DocumentDB serve it; records each name the client sent."""

    def serve(conn: socket.socket) -> None:
        with context.wrap_socket(conn, server_side=True) as tls:
            listener.events.append(f"handshake {tls.version()}")
            with contextlib.suppress(OSError):
                tls.recv(1)

    listener = _Listener(serve)
    return listener


def _tds_packet(kind: int, payload: bytes) -> bytes:
    return struct.pack(">BBHHBB", kind, 0x01, len(payload) + 8, 0, 1, 0) + payload


def _tds_read(conn: socket.socket) -> tuple[int, bytes]:
    message = b""
    while True:
        header = _recv_exact(conn, 8)
        kind, status, length = header[0], header[1], struct.unpack(">H", header[2:4])[0]
        message += _recv_exact(conn, length - 8)
        if status & 0x01:
            return kind, message


def _recv_exact(conn: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            raise OSError("closed")
        data += chunk
    return data


def tds_server(context: ssl.SSLContext, encryption: int = 0x01) -> _Listener:
    """A SQL Server's side of PRELOGIN ([MS-TDS] 2.2.6.5) and of the TLS handshake carried in PRELOGIN packets;
    then TDS over TLS, as far as reading the client's LOGIN7 (type 0x10), whose user name it records."""

    def serve(conn: socket.socket) -> None:
        kind, _ = _tds_read(conn)
        assert kind == 0x12, kind
        # VERSION 15.0.4236 and ENCRYPTION, then the terminator.
        options = struct.pack(">BHHBHHB", 0x00, 11, 6, 0x01, 17, 1, 0xFF)
        conn.sendall(_tds_packet(0x04, options + bytes([15, 0]) + struct.pack(">HH", 4236, 0) + bytes([encryption])))
        if encryption == 0x02:
            return
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        tls = context.wrap_bio(incoming, outgoing, server_side=True)
        while True:
            try:
                tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                pending = outgoing.read()
                if pending:
                    conn.sendall(_tds_packet(0x12, pending))
                kind, payload = _tds_read(conn)
                assert kind == 0x12, kind
                incoming.write(payload)
        pending = outgoing.read()
        if pending:
            conn.sendall(_tds_packet(0x12, pending))
        listener.events.append(f"handshake {tls.version()}")
        # After the handshake the client's TLS records travel bare, and carry TDS packets.
        plain = b""
        while len(plain) < 8 or len(plain) < struct.unpack(">H", plain[2:4])[0]:
            try:
                plain += tls.read(65536)
            except ssl.SSLWantReadError:
                data = conn.recv(65536)
                if not data:
                    return
                incoming.write(data)
        listener.events.append(f"login7 type {plain[0]:#04x} length {struct.unpack('>H', plain[2:4])[0]}")

    listener = _Listener(serve)
    return listener


@contextlib.contextmanager
def silent_port() -> Iterator[int]:
    """A port that accepts connections (the kernel's backlog) and never says a word."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    try:
        yield int(sock.getsockname()[1])
    finally:
        sock.close()
