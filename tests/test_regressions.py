"""Regressions for surprises a fresh-eyes review found, trying rdsca as a new user and as an attacker would."""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import subprocess
import sys
import urllib.parse
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from rdsca import clock
from rdsca import truststore as ts
from rdsca.cli import cli
from rdsca.probe import judge

from .conftest import FIXTURES, write_program
from .probe import pki

BUNDLE = FIXTURES / "rds-global-bundle-2024-06.pem"


def rdsca(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def one_error_line(code: int, out: str, err: str) -> str:
    assert code == 2, (code, out, err)
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("rdsca: error: "), lines[0]
    assert "internal error" not in lines[0], lines[0]
    return lines[0]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_build_force_does_not_replace_something_that_is_not_a_file(tmp_path: Path) -> None:
    """`truststore build --out X --force` renames a regular file over whatever X is: run as root with
    `--out /dev/null --force` it replaced the system's /dev/null device with a PEM file. A FIFO shows the same
    without root: it must be refused (exit 2) and left as it was."""
    fifo = tmp_path / "store.pem"
    os.mkfifo(fifo)
    code, out, err = rdsca("truststore", "build", "--bundle", str(BUNDLE), "--out", str(fifo), "--force")
    assert fifo.is_fifo(), "the FIFO at --out was replaced by a regular file"
    one_error_line(code, out, err)


def test_output_to_a_closed_pipe_is_not_an_internal_error() -> None:
    """`rdsca truststore inspect BUNDLE | head -1` (or `rdsca check ... | head -1`) prints
    'rdsca: error: internal error: BrokenPipeError' and exits 2: a reader that stops early is not an rdsca failure."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "rdsca.cli", "truststore", "inspect", str(BUNDLE)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.wait(timeout=60)
    assert "internal error" not in err and "Traceback" not in err, err


@pytest.mark.parametrize("option", ["--connect-timeout", "--handshake-timeout"])
def test_probe_nan_timeout_is_a_usage_error(option: str) -> None:
    """`rdsca probe HOST:PORT --engine tls --connect-timeout nan` (a port that accepts): click's FloatRange lets NaN through, and the
    socket layer fails with 'internal error: ValueError: Invalid value NaN'."""
    with socket.socket() as listener:  # a port that accepts, so the probe gets as far as its timeouts
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        line = one_error_line(*rdsca("probe", f"127.0.0.1:{port}", "--engine", "tls", option, "nan"))
    assert option in line


def test_check_huge_timeout_prints_no_traceback(tmp_path: Path) -> None:
    """`rdsca check DIR --timeout 1e308`: the host's deadline thread dies in time.sleep with OverflowError and
    prints a thread traceback to stderr (and the run then has no deadline at all)."""
    program = write_program(tmp_path / "prog", "import pulumi\n")
    proc = subprocess.run(
        [sys.executable, "-m", "rdsca.cli", "check", str(program), "--timeout", "1e308"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode in (0, 2), (proc.returncode, proc.stderr)


@pytest.mark.parametrize("source", ["./", "./loop/up"])
def test_terraform_module_that_calls_itself_is_one_error_line(tmp_path: Path, source: str) -> None:
    """A module whose source is its own directory (or a symlink back to it) recurses until Python's limit:
    'internal error: RecursionError'. Terraform refuses a module cycle; rdsca should say so, in one line."""
    (tmp_path / "loop").mkdir()
    (tmp_path / "loop" / "up").symlink_to("..")
    (tmp_path / "main.tf").write_text(
        f'module "m" {{\n  source = "{source}"\n}}\n'
        'resource "aws_db_instance" "a" {\n  engine = "mysql"\n  ca_cert_identifier = "rds-ca-2019"\n}\n'
    )
    one_error_line(*rdsca("check", str(tmp_path)))


def test_terraform_retired_ca_hidden_in_deep_parentheses_does_not_pass(tmp_path: Path) -> None:
    """`ca_cert_identifier = ((((...("rds-ca-2019")...))))` with 1000 parentheses is 'expression nested too deeply
    to evaluate', treated like a provider-computed value ('known after apply'), which never blocks: the check
    exits 0 and a retired CA gets past CI. A limit of rdsca's own evaluator must not read as a pass."""
    depth = 1000
    (tmp_path / "main.tf").write_text(
        'resource "aws_db_instance" "a" {\n  engine = "mysql"\n'
        f'  ca_cert_identifier = {"(" * depth}"rds-ca-2019"{")" * depth}\n}}\n'
    )
    code, out, _err = rdsca("check", str(tmp_path))
    assert code != 0, out


def test_probe_trusts_a_certificate_that_is_valid_right_now(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without --as-of, the probe judges every certificate at 12:00 UTC of today, not now: a server certificate
    issued this afternoon (UTC) is 'not valid before' today and the probe says NOT TRUSTED (exit 1); one that
    expires this morning is still trusted. Seen with `openssl s_server` and a certificate made a minute before."""
    monkeypatch.delenv(clock.AS_OF_ENV, raising=False)
    now = dt.datetime.now(dt.timezone.utc)
    noon = now.replace(hour=12, minute=0, second=0, microsecond=0)
    if abs((now - noon).total_seconds()) < 180:
        pytest.skip("too close to 12:00 UTC for this test to tell")
    validity = (now - dt.timedelta(minutes=2), now + dt.timedelta(minutes=2))
    root = pki.ca("review root", validity=(now - dt.timedelta(days=1), now + dt.timedelta(days=365)))
    leaf = pki.server(["db.example.test"], root, validity=validity)
    store = [ts.classify(root.cert)]
    trust = judge.verify([leaf.cert], store, clock.today(), "db.example.test")
    assert trust.trusted, trust.problems


def _float_options(command: click.Command, path: str = "rdsca") -> list[tuple[str, click.Option]]:
    found = []
    for param in command.params:
        if isinstance(param, click.Option) and isinstance(param.type, click.types.FloatParamType):
            found.append((f"{path} {param.opts[0]}", param))
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            found.extend(_float_options(sub, f"{path} {name}"))
    return found


@pytest.mark.parametrize(("where", "option"), _float_options(cli), ids=lambda v: v if isinstance(v, str) else "")
def test_no_number_option_takes_nan(where: str, option: click.Option) -> None:
    """click's FloatRange lets 'nan' through (every comparison with NaN is false). `rdsca rotate --rate nan --apply`
    then applies with no pacing at all, `audit --account-rate nan` has no rate limit, `audit --connect-timeout nan`
    fails as 'cannot tell which account the credentials belong to' and `probe --connect-timeout nan` as an internal
    error. Every number option should refuse it as a usage error."""
    with pytest.raises(click.BadParameter):
        option.type.convert("nan", option, None)


def test_demo_audit_far_in_the_future_is_not_an_internal_error() -> None:
    """`rdsca audit --demo --as-of 9999-12-31`: the fake account adds years to today (year 10002), answers 500, and
    the command prints about 40 lines of the fake server's tracebacks, then 'internal error: ResponseParserError'."""
    result = CliRunner().invoke(cli, ["audit", "--demo", "--as-of", "9999-12-31"], catch_exceptions=False)
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    assert "internal error" not in result.stderr, result.stderr[-2000:]


def test_build_does_not_silently_add_a_root_from_no_rds_ca(tmp_path: Path) -> None:
    """`truststore build` keeps a certificate of family 'other' (not an RDS CA) by default and says nothing, and
    `--download --base-url http://...` takes the bundle over plain HTTP: whoever can alter the mirror or the
    connection adds a root of their own to every client's trust store. An RDS trust store should drop a root from
    no RDS CA (or keep it only when asked), and at the very least say so."""
    root = pki.ca("not an RDS root", kind="rsa")
    mixed = tmp_path / "mixed.pem"
    mixed.write_bytes(BUNDLE.read_bytes() + root.pem)
    out = tmp_path / "store.pem"
    code, _out, err = rdsca("truststore", "build", "--bundle", str(mixed), "--out", str(out))
    assert code == 0, err
    kept = any(e.cn == "not an RDS root" for e in ts.read(out))
    assert not kept or "not an RDS root" in err, "a root from no RDS CA was added to the store without a word"


def test_sarif_uri_names_a_file_whose_name_is_not_a_plain_uri(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """SARIF's artifactLocation.uri is a URI reference: a space or '#' written as is cuts the path (a scanner reads
    'my stack#1/...' as 'my stack' plus a fragment), and a file name that is not UTF-8 was written as a lone
    surrogate. Its bytes are percent-encoded now, and decoding the URI gives the file back."""
    stack = tmp_path / "my stack#1"
    stack.mkdir()
    name = os.fsdecode(b"db-\xff%.tf")
    (stack / name).write_text('resource "aws_db_instance" "a" {\n  engine = "mysql"\n  ca_cert_identifier = "rds-ca-2019"\n}\n')
    monkeypatch.chdir(tmp_path)
    code, out, _err = rdsca("check", "my stack#1", "--format", "sarif")
    assert code == 1
    (found,) = json.loads(out)["runs"][0]["results"]
    uri = found["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "my%20stack%231/db-%FF%25.tf"
    assert urllib.parse.unquote_to_bytes(uri) == os.fsencode(Path("my stack#1") / name)
