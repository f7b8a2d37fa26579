"""``--demo`` never reaches anything but its fake account, whatever this machine's AWS set-up says; bad endpoint
settings are one-line errors; slow endpoints are bounded and Ctrl-C stops at once."""

from __future__ import annotations

import os
import signal
import socket
import socketserver
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from rdsca.aws.fake import FakeAccount

from ..conftest import rdsca_started
from .conftest import run


class _Recorder(socketserver.BaseRequestHandler):
    """Records the first line of every request a client sends through the proxy, and answers nothing useful."""

    seen: list[str]

    def handle(self) -> None:
        data = self.request.recv(4096)
        self.server.seen.append(data.split(b"\r\n", 1)[0].decode(errors="replace"))  # type: ignore[attr-defined]
        self.request.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")


@pytest.fixture
def proxy(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """A recording proxy on loopback, set as every proxy an HTTP client may read from the environment."""
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Recorder)
    server.seen = []  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    address = f"http://127.0.0.1:{server.server_address[1]}"
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy", "ALL_PROXY"):
        monkeypatch.setenv(name, address)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    yield server.seen  # type: ignore[attr-defined]
    server.shutdown()


@pytest.fixture
def keys_seen(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The access key id of every request the demo's fake account receives."""
    seen: list[str] = []
    real = FakeAccount._request

    def recording(self: FakeAccount, environ: dict) -> object:
        auth = environ.get("HTTP_AUTHORIZATION", "")
        if "Credential=" in auth:
            seen.append(auth.split("Credential=", 1)[1].split("/", 1)[0])
        return real(self, environ)

    monkeypatch.setattr(FakeAccount, "_request", recording)
    return seen


def _hostile_config(tmp_path: Path, marker: Path) -> Path:
    """A profile that ignores configured endpoints, points RDS elsewhere and runs a credential process."""
    config = tmp_path / "config"
    config.write_text(
        "[default]\nignore_configured_endpoint_urls = true\nregion = us-west-2\n"
        f"credential_process = {sys.executable} -c \"open('{marker}', 'w')\"\n"
        "[profile prod]\nignore_configured_endpoint_urls = true\nendpoint_url = https://rds.example.invalid\n"
        f"credential_process = {sys.executable} -c \"open('{marker}', 'w')\"\n"
        "services = elsewhere\n[services elsewhere]\nrds =\n  endpoint_url = https://rds.example.invalid\n"
    )
    return config


CASES = {
    # The standard switch that makes botocore ignore AWS_ENDPOINT_URL: the old demo then called real AWS.
    "ignore configured endpoints": {"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true",
                                    "AWS_ENDPOINT_URL": "https://example.invalid"},
    # Service-specific endpoints win over AWS_ENDPOINT_URL.
    "service endpoints": {"AWS_ENDPOINT_URL_RDS": "https://rds.example.invalid",
                          "AWS_ENDPOINT_URL_STS": "https://sts.example.invalid",
                          "AWS_ENDPOINT_URL_EC2": "https://ec2.example.invalid"},
    # A profile whose config ignores configured endpoints, names another endpoint and runs a credential process.
    "profile settings": {"AWS_PROFILE": "prod"},
}


@pytest.mark.parametrize("case", CASES)
def test_the_demo_contacts_nothing_but_its_fake_account(
    case: str, proxy: list[str], keys_seen: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = tmp_path / "credential-process-ran"
    monkeypatch.setenv("AWS_CONFIG_FILE", str(_hostile_config(tmp_path, marker)))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAREALKEYNEVERSENT")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "real-secret-never-sent")
    for name, value in CASES[case].items():
        monkeypatch.setenv(name, value)
    result = run("audit", "--demo", "--org", "--include-management", "--format", "json")
    # The demo ran: seeded, assumed roles, scanned (its organization has an account without the role: exit 2).
    assert result.exit_code == 2, result.stderr
    assert {d["identifier"] for d in result.json()["databases"]} >= {"billing-mysql", "payments-postgres"}
    assert proxy == []  # no request went anywhere through a proxy: nothing left loopback
    assert not marker.exists()  # no credential process ran
    assert keys_seen and "AKIAREALKEYNEVERSENT" not in keys_seen


def test_the_demo_refuses_a_profile(monkeypatch: pytest.MonkeyPatch) -> None:
    result = run("audit", "--demo", "--profile", "prod")
    assert result.exit_code == 2
    assert result.stderr.strip().endswith("--profile cannot be used with --demo: the demo never uses real credentials")


def test_an_endpoint_that_is_not_a_url_is_one_clear_error(account: FakeAccount, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "not-a-url")
    result = run("audit", "--regions", "us-east-1")
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()[-1:]
    assert line == "rdsca: error: cannot make an AWS client for sts in us-east-1: Invalid endpoint: not-a-url"
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("value", ["", ",", "us-east-1,,eu-west-1", " , "])
def test_an_empty_region_never_means_every_region(account: FakeAccount, value: str) -> None:
    result = run("rotate", "--regions", value, "--apply", "--yes")
    assert result.exit_code == 2
    assert "an empty region name" in result.stderr
    assert account.calls == []


class Silent(str):
    """The endpoint's URL; ``connections`` lists what it accepted."""

    connections: list[socket.socket]


@pytest.fixture
def silent_endpoint() -> Iterator[Silent]:
    """An endpoint that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    threading.Thread(target=accept, daemon=True).start()
    url = Silent(f"http://127.0.0.1:{listener.getsockname()[1]}")
    url.connections = held
    yield url
    stop.set()
    listener.close()
    for conn in held:
        conn.close()


def _default_sigint() -> None:
    # A shell starts background jobs with SIGINT ignored, and Python then installs no KeyboardInterrupt handler:
    # give the child the terminal's default, as an interactive run has.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _rdsca(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return rdsca_started(*args, env=env, preexec_fn=_default_sigint)


def _env(endpoint: str, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="AKIDTESTING", AWS_SECRET_ACCESS_KEY="x",
               AWS_DEFAULT_REGION="us-east-1", AWS_CONFIG_FILE=str(tmp_path / "none"),
               AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"))
    return env


def test_an_endpoint_that_never_answers_is_bounded(silent_endpoint: str, tmp_path: Path) -> None:
    """Two attempts of 1 s each, not 8 attempts of 60 s: the account is reported and the command ends, exit 2. Counted,
    not timed: the endpoint sees exactly the two attempts (botocore's default would have made more)."""
    proc = _rdsca("audit", "--regions", "us-east-1", "--read-timeout", "1", "--connect-timeout", "1",
                  "--max-attempts", "2", env=_env(silent_endpoint, tmp_path))
    _out, err = proc.communicate(timeout=120)
    assert proc.returncode == 2, err
    assert len(silent_endpoint.connections) == 2, err
    assert err.strip().splitlines()[-1].startswith("rdsca: error: ")
    assert "no answer in time" in err or "timed out" in err


def test_the_first_ctrl_c_stops_at_once(silent_endpoint: Silent, tmp_path: Path) -> None:
    """With the default timeouts a call could wait 10 s a try: Ctrl-C does not wait for it."""
    env = _env(silent_endpoint, tmp_path)
    proc = _rdsca("audit", "--regions", "us-east-1,eu-west-1,ap-southeast-2", "--accounts", "111111111111",
                  env=env)
    deadline = time.monotonic() + 30
    while not silent_endpoint.connections and time.monotonic() < deadline:
        time.sleep(0.05)  # until it waits on the endpoint
    time.sleep(0.3)
    waiting = len(silent_endpoint.connections)
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=60)
    # Stopped while its calls were still waiting: no call timed out and was tried again (that would be a new
    # connection), so it did not wait out the 10 s read timeout. Counted, not timed.
    assert len(silent_endpoint.connections) == waiting
    assert proc.returncode == 2
    assert err.strip().splitlines()[-1] == "rdsca: error: interrupted; nothing more was done"
    assert "Traceback" not in err
