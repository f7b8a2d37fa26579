"""Each engine's way into TLS, up to the end of the handshake: the network shell of ``rdsca probe``.

No database driver and no credentials: the probe speaks only what comes before authentication (PostgreSQL's
SSLRequest, MySQL's greeting and SSLRequest packet, SQL Server's PRELOGIN with the handshake carried inside TDS
packets, or TLS straight away), takes the certificates the server sends, and hangs up. The TLS engine is the
standard library's, driven through memory BIOs so that one loop serves every framing. It verifies nothing: the
chain is judged offline by ``rdsca.probe.judge``, as a client would, at the date ``--as-of`` sets.
"""

from __future__ import annotations

import functools
import socket
import ssl
import struct
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass

from cryptography import x509

from rdsca.errors import RdscaError
from rdsca.probe._chain import served_chain

#: Framings: how a client reaches TLS on each kind of server.
POSTGRES, MYSQL, SQLSERVER, TLS = "postgres", "mysql", "sqlserver", "tls"


class ProbeError(RdscaError):
    """An endpoint that could not be probed; the message is one line for the user."""


@dataclass(frozen=True)
class Handshake:
    """What the server showed before authentication."""

    #: The certificates as served, the server's own first.
    chain: list[x509.Certificate]
    tls_version: str
    cipher: str
    #: What the server said of itself before TLS (MySQL's and SQL Server's version), if anything.
    server: str | None


#: The most bytes a probe reads from one server: a handshake (greeting, TLS records, a certificate chain) is a few
#: kilobytes; a server that never ends its reply (a TDS packet without end-of-message) must not grow memory.
MAX_BYTES = 4 * 1024 * 1024


class _Conn:
    """A socket with one deadline for the whole exchange, a cap on what it reads, and errors that name what was
    awaited."""

    def __init__(self, sock: socket.socket, timeout: float) -> None:
        self.sock = sock
        self.timeout = timeout
        self.deadline = time.monotonic() + timeout
        self.received = 0

    def _arm(self, what: str) -> None:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise ProbeError(f"no answer within {self.timeout:g} s {what}")
        self.sock.settimeout(left)

    def send(self, data: bytes, what: str) -> None:
        self._arm(what)
        try:
            self.sock.sendall(data)
        except TimeoutError:
            raise ProbeError(f"no answer within {self.timeout:g} s {what}") from None
        except OSError as exc:
            raise ProbeError(f"the connection failed {what}: {exc.strerror or exc}") from None

    def recv(self, size: int, what: str) -> bytes:
        """Up to ``size`` bytes; the peer closing is an error."""
        self._arm(what)
        try:
            data = self.sock.recv(size)
        except TimeoutError:
            raise ProbeError(f"no answer within {self.timeout:g} s {what}") from None
        except OSError as exc:
            raise ProbeError(f"the connection failed {what}: {exc.strerror or exc}") from None
        if not data:
            raise ProbeError(f"the server closed the connection {what}")
        self.received += len(data)
        if self.received > MAX_BYTES:
            raise ProbeError(f"the server sent more than {MAX_BYTES // 1024} KiB {what}: not a handshake")
        return data

    def recv_exact(self, size: int, what: str) -> bytes:
        chunks = bytearray()
        while len(chunks) < size:
            chunks += self.recv(size - len(chunks), what)
        return bytes(chunks)


# -- PostgreSQL ------------------------------------------------------------------------------------------------------

#: SSLRequest: length 8, then the code 1234 5679 (PostgreSQL protocol docs, "SSL Session Encryption").
_PG_SSL_REQUEST = struct.pack("!ii", 8, 80877103)


def _postgres(conn: _Conn) -> str | None:
    conn.send(_PG_SSL_REQUEST, "to the PostgreSQL SSLRequest")
    # Exactly one byte: anything after 'S' belongs to TLS (reading more is CVE-2021-23222's buffering mistake).
    answer = conn.recv_exact(1, "to the PostgreSQL SSLRequest")
    if answer == b"S":
        return None
    if answer == b"N":
        raise ProbeError("the server does not offer TLS (PostgreSQL answered N to SSLRequest: ssl is off)")
    raise ProbeError(f"not a PostgreSQL server: it answered {answer!r} to SSLRequest")


# -- MySQL / MariaDB -------------------------------------------------------------------------------------------------

# Capability flags (MySQL client/server protocol, "Capabilities Flags").
_CLIENT_LONG_PASSWORD = 0x1
_CLIENT_PROTOCOL_41 = 0x200
_CLIENT_SSL = 0x800
_CLIENT_SECURE_CONNECTION = 0x8000
_CLIENT_PLUGIN_AUTH = 0x80000


def _mysql_packet(conn: _Conn, what: str) -> tuple[int, bytes]:
    header = conn.recv_exact(4, what)
    length = int.from_bytes(header[:3], "little")
    return header[3], conn.recv_exact(length, what) if length else b""


def _mysql(conn: _Conn) -> str | None:
    """Read the greeting (Protocol::HandshakeV10), check it offers SSL, send the 32-byte SSLRequest packet."""
    what = "with the MySQL greeting"
    seq, greeting = _mysql_packet(conn, what)
    if greeting[:1] == b"\xff":
        # ERR_Packet before any handshake (host blocked, too many connections): code, then the message.
        code = int.from_bytes(greeting[1:3], "little")
        text = greeting[3:].decode("utf-8", "replace").lstrip("#")
        raise ProbeError(f"the server refused the connection: error {code}: {text}")
    if greeting[:1] != b"\x0a" or b"\0" not in greeting[1:]:
        raise ProbeError("not a MySQL or MariaDB server: no protocol-10 greeting")
    version, rest = greeting[1:].split(b"\0", 1)
    # After the version: thread id (4), auth data part 1 (8), filler (1), capability flags, low 16 bits (2),
    # character set (1).
    if len(rest) < 15:
        raise ProbeError("not a MySQL or MariaDB server: a greeting too short to hold capability flags")
    capabilities = int.from_bytes(rest[13:15], "little")
    charset = rest[15] if len(rest) > 15 else 45
    # MariaDB prefixes its version with "5.5.5-" for the sake of old MySQL clients.
    server = version.decode("utf-8", "replace").removeprefix("5.5.5-")
    if not capabilities & _CLIENT_SSL:
        raise ProbeError(f"the server does not offer TLS (no SSL capability in the greeting of {server})")
    flags = _CLIENT_LONG_PASSWORD | _CLIENT_PROTOCOL_41 | _CLIENT_SSL | _CLIENT_SECURE_CONNECTION | _CLIENT_PLUGIN_AUTH
    body = struct.pack("<IIB23x", flags, 1 << 24, charset)
    conn.send(len(body).to_bytes(3, "little") + bytes([(seq + 1) & 0xFF]) + body, "to the MySQL SSLRequest")
    return server


# -- SQL Server (TDS) ------------------------------------------------------------------------------------------------

# [MS-TDS] 2.2.3.1.1 packet types, 2.2.6.5 PRELOGIN option tokens and encryption values.
_TDS_PRELOGIN, _TDS_REPLY = 0x12, 0x04
_TDS_EOM = 0x01
_PL_VERSION, _PL_ENCRYPTION, _PL_INSTOPT, _PL_THREADID, _PL_MARS, _PL_TERMINATOR = 0, 1, 2, 3, 4, 0xFF
_ENCRYPT_ON, _ENCRYPT_NOT_SUP = 0x01, 0x02
#: A client's default packet size before LOGIN7 negotiates another is 4096 bytes, header included.
_TDS_PACKET = 4096


class _Tds:
    """TDS packets of one type over a connection; a message ends at the packet with the EOM status bit."""

    def __init__(self, conn: _Conn) -> None:
        self.conn = conn
        self.packet_id = 1

    def send(self, kind: int, payload: bytes, what: str) -> None:
        room = _TDS_PACKET - 8
        pieces = [payload[i : i + room] for i in range(0, len(payload), room)] or [b""]
        out = bytearray()
        for index, piece in enumerate(pieces):
            status = _TDS_EOM if index == len(pieces) - 1 else 0
            out += struct.pack(">BBHHBB", kind, status, len(piece) + 8, 0, self.packet_id, 0) + piece
            self.packet_id = (self.packet_id + 1) & 0xFF
        self.conn.send(bytes(out), what)

    def receive(self, what: str) -> tuple[int, bytes]:
        message = bytearray()
        while True:
            kind, status, length, _, _, _ = struct.unpack(">BBHHBB", self.conn.recv_exact(8, what))
            if length < 8:
                raise ProbeError(f"not a SQL Server: a TDS packet header with length {length} {what}")
            message += self.conn.recv_exact(length - 8, what)
            if status & _TDS_EOM:
                return kind, bytes(message)


def _prelogin() -> bytes:
    options = [
        (_PL_VERSION, bytes(6)),
        (_PL_ENCRYPTION, bytes([_ENCRYPT_ON])),
        (_PL_INSTOPT, b"\0"),
        (_PL_THREADID, bytes(4)),
        (_PL_MARS, b"\0"),
    ]
    offset = 5 * len(options) + 1
    table, data = bytearray(), bytearray()
    for token, value in options:
        table += struct.pack(">BHH", token, offset + len(data), len(value))
        data += value
    return bytes(table + bytes([_PL_TERMINATOR]) + data)


def _prelogin_options(payload: bytes) -> dict[int, bytes]:
    options: dict[int, bytes] = {}
    index = 0
    while index < len(payload) and payload[index] != _PL_TERMINATOR:
        if index + 5 > len(payload):
            raise ProbeError("not a SQL Server: a PRELOGIN answer cut short")
        token, offset, length = struct.unpack(">BHH", payload[index : index + 5])
        if offset + length > len(payload):
            raise ProbeError("not a SQL Server: a PRELOGIN option outside the packet")
        options[token] = payload[offset : offset + length]
        index += 5
    return options


def _sqlserver(conn: _Conn, tds: _Tds) -> str | None:
    what = "to the TDS PRELOGIN"
    tds.send(_TDS_PRELOGIN, _prelogin(), what)
    kind, payload = tds.receive(what)
    if kind != _TDS_REPLY:
        raise ProbeError(f"not a SQL Server: it answered PRELOGIN with a TDS packet of type {kind:#04x}")
    options = _prelogin_options(payload)
    version = options.get(_PL_VERSION, b"")
    server = None
    if len(version) >= 4:
        server = f"SQL Server {version[0]}.{version[1]}.{int.from_bytes(version[2:4], 'big')}"
    encryption = options.get(_PL_ENCRYPTION, b"\x02")[:1]
    if encryption == bytes([_ENCRYPT_NOT_SUP]):
        raise ProbeError("the server does not offer TLS (PRELOGIN answered ENCRYPT_NOT_SUP)")
    return server


# -- TLS -------------------------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _context() -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    # The probe must see what any server serves, old TLS versions included, and judge it itself: no
    # verification here (a verifying handshake would stop at the first problem and could not judge --as-of).
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = ssl.TLSVersion.TLSv1
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    return context


def _tls(send: Callable[[bytes], None], receive: Callable[[], bytes], server_name: str) -> ssl.SSLObject:
    """Run a client handshake whose records travel through ``send``/``receive`` (raw or inside TDS packets)."""
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    try:
        tls = _context().wrap_bio(incoming, outgoing, server_side=False, server_hostname=server_name or None)
    except (UnicodeError, ValueError):
        raise ProbeError(f"cannot send {server_name!r} as a TLS server name") from None
    while True:
        try:
            tls.do_handshake()
            break
        except ssl.SSLWantReadError:
            pending = outgoing.read()
            if pending:
                send(pending)
            incoming.write(receive())
        except ssl.SSLError as exc:
            raise ProbeError(f"the TLS handshake failed: {exc.reason or exc}") from None
    pending = outgoing.read()
    if pending:
        send(pending)  # the client's Finished, so that the server sees a completed handshake
    return tls


def _connect(host: str, port: int, timeout: float) -> socket.socket:
    # socket.create_connection tries each address the name resolves to, each with the whole timeout: eight silent
    # addresses and a 2 s timeout take 16 s. The message says what was measured.
    started = time.monotonic()
    try:
        return socket.create_connection((host, port), timeout=timeout)
    except TimeoutError:
        elapsed = time.monotonic() - started
        if elapsed < timeout * 1.5:
            raise ProbeError(f"no connection within {timeout:g} s") from None
        raise ProbeError(
            f"no connection after {elapsed:.1f} s (each of the addresses {host} resolves to was given {timeout:g} s)"
        ) from None
    except socket.gaierror as exc:
        raise ProbeError(f"cannot resolve {host}: {exc.strerror or exc}") from None
    except UnicodeError:
        # The IDNA codec refuses an empty label (a..b) or one over 63 characters (RFC 1035) before any lookup.
        raise ProbeError(f"{host!r} is not a valid host name (an empty label, or one over 63 characters)") from None
    except ConnectionRefusedError:
        raise ProbeError("connection refused") from None
    except OSError as exc:
        raise ProbeError(f"cannot connect: {exc.strerror or exc}") from None


def handshake(
    host: str, port: int, framing: str, server_name: str, connect_timeout: float = 5.0, timeout: float = 10.0
) -> Handshake:
    """Connect, negotiate TLS the engine's way, and return what the server served; raise ``ProbeError``."""
    with _connect(host, port, connect_timeout) as sock:
        try:
            return _negotiate(_Conn(sock, timeout), framing, server_name)
        except (struct.error, IndexError, UnicodeError) as exc:
            # A server's bytes are untrusted input: whatever does not parse is a failed probe, not a crash.
            raise ProbeError(f"the server's answer cannot be parsed ({exc})") from None


def _negotiate(conn: _Conn, framing: str, server_name: str) -> Handshake:
    """The engine's way into TLS, then the handshake."""
    what = "during the TLS handshake"
    server: str | None = None
    if framing == SQLSERVER:
        tds = _Tds(conn)
        server = _sqlserver(conn, tds)

        def send(data: bytes) -> None:
            tds.send(_TDS_PRELOGIN, data, what)

        def receive() -> bytes:
            return tds.receive(what)[1]
    else:
        if framing == POSTGRES:
            server = _postgres(conn)
        elif framing == MYSQL:
            server = _mysql(conn)
        elif framing != TLS:
            raise ValueError(framing)

        def send(data: bytes) -> None:
            conn.send(data, what)

        def receive() -> bytes:
            return conn.recv(65536, what)

    tls = _tls(send, receive, server_name)
    try:
        chain = [x509.load_der_x509_certificate(der) for der in served_chain(tls)]
    except ValueError as exc:
        raise ProbeError(f"the server sent a certificate that cannot be parsed ({exc})") from None
    if not chain:
        raise ProbeError("the server sent no certificate")
    cipher = tls.cipher()
    return Handshake(chain, tls.version() or "?", cipher[0] if cipher else "?", server)
