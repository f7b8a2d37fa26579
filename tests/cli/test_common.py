"""One error contract for every command: an error is one line on stderr and exit 2, never a traceback, never 1.

Each hostile input found by trying rdsca as an attacker would is a named case here (the fuzz harness in
``test_fuzz_inputs.py`` covers random ones). Commands run in process through click, as the ``rdsca`` script does.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import click
import pytest

from rdsca.cli import cli
from rdsca.cli.common import DEBUG_ENV

from ..conftest import FIXTURES, one_error_line, rdsca_started, write_program
from ..conftest import invoke as rdsca

# -- files rdsca reads ---------------------------------------------------------------------------------------------


def _program(tmp_path: Path) -> Path:
    return write_program(tmp_path / "prog", "import pulumi\n")


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("Pulumi.yaml", b"name: \xff\xfe bad\nruntime: python\n"),
        ("Pulumi.yaml", b"\x00\x01\x02binary"),
        ("Pulumi.dev.yaml", b"config:\n  aws:region: \xc3\x28\n"),
        ("Pulumi.dev.yaml", b"config: [1, 2, 3]\n"),
        ("Pulumi.dev.yaml", b"a: &a [*a]\nconfig:\n  testprog:x: &b [*b]\n"),
        ("Pulumi.yaml", b"name: x\nruntime: python\nmain: [1]\n"),
    ],
    ids=["project-not-utf8", "project-binary", "stack-not-utf8", "stack-config-list", "stack-self-reference",
         "project-main-list"],
)
def test_bad_project_files(tmp_path: Path, name: str, data: bytes) -> None:
    program = _program(tmp_path)
    (program / name).write_bytes(data)
    line = one_error_line(*rdsca("check", str(program)))
    assert name in line


@pytest.mark.parametrize(
    ("option", "data", "expected"),
    [
        ("--policy-pack-config", b"\xff\xfe{}", "not UTF-8 text"),
        ("--policy-pack-config", b"[" * 100_000, "nested too deeply"),
        ("--state", b"\x89PNG\r\n", "not UTF-8 text"),
        ("--state", b'{"deployment": {"resources": [{"urn": "u", "outputs": [1, 2]}]}}', "outputs must be an object"),
        ("--state", b'{"deployment": {"resources": [{"urn": "u", "outputs": "text"}]}}', "outputs must be an object"),
        ("--state", b"[" * 100_000, "nested too deeply"),
    ],
    ids=["config-not-utf8", "config-deep", "state-binary", "state-outputs-list", "state-outputs-string", "state-deep"],
)
def test_bad_pack_inputs(tmp_path: Path, option: str, data: bytes, expected: str) -> None:
    from ..conftest import REPO

    program = _program(tmp_path)
    bad = tmp_path / "input.json"
    bad.write_bytes(data)
    line = one_error_line(*rdsca("check", str(program), "--policy-pack", str(REPO / "policies"), option, str(bad)))
    assert str(bad) in line and expected in line


def test_a_pack_manifest_that_is_not_utf8(tmp_path: Path) -> None:
    program = _program(tmp_path)
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "PulumiPolicy.yaml").write_bytes(b"runtime: python\ndescription: \xe9t\xe9\n")
    line = one_error_line(*rdsca("check", str(program), "--policy-pack", str(pack)))
    assert "PulumiPolicy.yaml: not UTF-8 text" in line


# -- flags ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "regions", ["bad region!", "", ",,", "us-east-1,,eu-west-1", "US-EAST-1"], ids=lambda r: repr(r)
)
@pytest.mark.parametrize("command", [["audit"], ["rotate"], ["default-ca", "show"]])
def test_regions_must_be_region_names_and_never_empty(command: list[str], regions: str) -> None:
    # An empty element never means "every region": a script whose $REGION is empty must not widen its scope.
    line = one_error_line(*rdsca(*command, "--regions", regions))
    assert "--regions" in line


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["rotate", "--tag", "novalue"], "expected KEY=VALUE"),
        (["rotate", "--tag", "=v"], "expected KEY=VALUE"),
        (["audit", "--as-of", "2026-13-01"], "invalid date"),
        (["check", ".", "--format", "csv"], "Invalid value for '--format'"),
    ],
)
def test_bad_flag_values(args: list[str], expected: str) -> None:
    assert expected in one_error_line(*rdsca(*args))


# -- unexpected failures -------------------------------------------------------------------------------------------


@pytest.fixture
def broken_command() -> click.Command:
    @click.command("explode")
    def explode() -> None:
        raise RuntimeError("something\nunexpected \x1b[31mred\u202e")

    cli.add_command(explode)
    yield explode
    cli.commands.pop("explode")


def test_an_internal_error_is_one_line_exit_2_with_the_debug_hint(broken_command: click.Command) -> None:
    line = one_error_line(*rdsca("explode"), internal_ok=True)
    # Control characters from the error text are escaped: one line, no terminal escapes, no bidi override.
    assert line == (
        "rdsca: error: internal error: RuntimeError: something\\nunexpected \\x1b[31mred\\u202e "
        "(run with --debug for the traceback)"
    )


def test_any_rdsca_error_is_its_message_and_hint_exit_2() -> None:
    """One mapping in Group.invoke for every layer's errors: message line, hint line, exit 2, no traceback."""
    from rdsca.errors import RdscaError
    from rdsca.terraform.model import ConfigError

    @click.command("refuse")
    def refuse() -> None:
        raise ConfigError("main.tf:3: bad\nthing", hint="fix line 3")

    cli.add_command(refuse)
    try:
        code, out, err = rdsca("refuse")
    finally:
        cli.commands.pop("refuse")
    assert issubclass(ConfigError, RdscaError)
    assert (code, out) == (2, "")
    assert err.splitlines() == ["rdsca: error: main.tf:3: bad\\nthing", "rdsca: hint: fix line 3"]


def test_debug_shows_the_traceback(broken_command: click.Command, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DEBUG_ENV, raising=False)
    code, _, err = rdsca("--debug", "explode")
    assert code == 2
    assert "Traceback (most recent call last)" in err and err.rstrip().endswith("for the traceback)")


def test_ctrl_c_in_a_command_is_exit_2(monkeypatch: pytest.MonkeyPatch) -> None:
    @click.command("interrupted")
    def interrupted() -> None:
        raise KeyboardInterrupt

    cli.add_command(interrupted)
    try:
        assert one_error_line(*rdsca("interrupted")) == "rdsca: error: interrupted; nothing more was done"
    finally:
        cli.commands.pop("interrupted")


def test_json_output_stays_clean_on_errors(tmp_path: Path) -> None:
    program = _program(tmp_path)
    (program / "Pulumi.yaml").write_bytes(b"\xff")
    code, out, _ = rdsca("check", str(program), "--format", "json")
    assert code == 2 and out == ""
    with pytest.raises(json.JSONDecodeError):
        json.loads(out)


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_as_of_out_of_range(day: str) -> None:
    line = one_error_line(*rdsca("audit", "--as-of", day))
    assert "out of range: from 1970-01-01 to 8999-12-31" in line


def test_output_to_a_closed_pipe_is_not_an_internal_error() -> None:
    """`rdsca truststore inspect BUNDLE | head -1` (or `rdsca check ... | head -1`) prints
    'rdsca: error: internal error: BrokenPipeError' and exits 2: a reader that stops early is not an rdsca failure."""
    proc = rdsca_started("truststore", "inspect", FIXTURES / "rds-global-bundle-2024-06.pem")
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read()
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


@pytest.mark.parametrize("runtime", ["go", "dotnet", "java", "yaml"])
def test_a_runtime_rdsca_does_not_run_says_how_to_enforce_the_pack_today(tmp_path: Path, runtime: str) -> None:
    (tmp_path / "Pulumi.yaml").write_text(f"name: n\nruntime: {runtime}\n")
    code, out, err = rdsca("check", str(tmp_path), "--kind", "pulumi")
    assert (code, out) == (2, "")
    error, hint = err.strip().splitlines()
    assert error.endswith(f"runtime is '{runtime}'; rdsca check runs Python, Node.js and Bun programs")
    assert hint == "rdsca: hint: the pack applies to a program in any language under the Pulumi CLI: pulumi preview --policy-pack policies"


@pytest.mark.parametrize("command", ["truststore-build", "check-fix"])
def test_sigterm_while_a_file_is_written_leaves_nothing_behind(tmp_path: Path, command: str) -> None:
    """SIGTERM during `check --fix` or `truststore build` left temporary files: it now unwinds like Ctrl-C. The
    signal is sent from inside the write (after the temporary file exists), so the test does not depend on timing."""
    import subprocess
    import sys

    work = tmp_path / "work"
    work.mkdir()
    main_tf = work / "main.tf"
    original = 'resource "aws_db_instance" "a" {\n  engine             = "mysql"\n  ca_cert_identifier = "rds-ca-2019"\n}\n'
    main_tf.write_text(original)
    args = (
        ["truststore", "build", "--bundle", str(FIXTURES / "rds-global-bundle-2024-06.pem"), "--out", str(work / "store.pem")]
        if command == "truststore-build"
        else ["check", str(work), "--fix"]
    )
    script = (
        "import os, signal, sys\n"
        "from rdsca import files\n"
        "real = files.write_file\n"
        "def write_file(target, data, mode, check=None):\n"
        "    def killed(tmp):\n"
        "        os.kill(os.getpid(), signal.SIGTERM)\n"
        "        if check: check(tmp)\n"
        "    return real(target, data, mode, killed)\n"
        "files.write_file = write_file\n"
        "from rdsca.cli import main\n"
        f"sys.argv = ['rdsca', *{args!r}]\n"
        "main()\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == "rdsca: error: stopped by SIGTERM; nothing more was done"
    assert sorted(p.name for p in work.iterdir()) == ["main.tf"]  # no temporary file, no half-written store
    assert main_tf.read_text() == original


def test_the_precommit_entry_finds_projects_and_directories(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 26.11: option values are not file names; a changed file's project is the nearest Pulumi.yaml above it;
    a directory given in the hook's args is checked too."""
    from rdsca.cli import precommit

    for name in ("stacks/a/Pulumi.yaml", "stacks/a/lib/db.py", "stacks/b/Pulumi.yaml", "infra/main.tf", "README.md"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    monkeypatch.chdir(tmp_path)
    options, paths = precommit.split(["--policy-pack", "policies", "--soft-fail", "stacks/a/lib/db.py", "README.md",
                                      "stacks/b", "infra/main.tf"])
    assert options == ["--policy-pack", "policies", "--soft-fail"]
    assert precommit.projects(paths) == [Path("stacks/a"), Path("stacks/b")]
    assert precommit.directories(paths) == [Path("stacks/b"), Path("infra")]
