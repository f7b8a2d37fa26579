"""Trust store files as people deploy them: modes, atomic replacement, links, hostile stores, nothing left behind."""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from rdsca import truststore as ts
from rdsca.cli import cli

from .conftest import FIXTURES, invoke, one_error_line
from .probe import pki

BUNDLE = FIXTURES / "rds-global-bundle-2024-06.pem"
ENV = {"STORE_PW": "s3cret-pass"}
AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("runuser") is not None


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["truststore", *args], env=env, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def build(out: Path, *extra: str) -> tuple[int, str, str]:
    return run("build", "--bundle", str(BUNDLE), "--out", str(out), "--password-env", "STORE_PW", *extra, env=ENV)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A directory every user may enter (pytest's own temporary directories are private to their owner)."""
    path = Path(tempfile.mkdtemp(prefix="rdsca-shared-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.startswith("."))


# -- modes ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "expected"), [("rds.p12", 0o644), ("rds.jks", 0o644), ("rds.pem", 0o644), ("rds", 0o755)])
def test_a_store_gets_the_mode_of_an_ordinary_new_file(umask_022: None, tmp_path: Path, name: str, expected: int) -> None:
    out = tmp_path / name
    assert build(out)[0] == 0
    assert mode(out) == expected
    if out.is_dir():
        assert {mode(p) for p in out.iterdir()} == {0o644}


def test_mode_option_and_force_keeps_the_existing_mode(umask_022: None, tmp_path: Path) -> None:
    out = tmp_path / "rds.p12"
    assert build(out, "--mode", "0640")[0] == 0 and mode(out) == 0o640
    assert build(out, "--force")[0] == 0 and mode(out) == 0o640  # --force keeps the store's mode
    assert build(out, "--force", "--mode", "600")[0] == 0 and mode(out) == 0o600
    code, _, err = build(out, "--force", "--mode", "rw-r--r--")
    assert code == 2 and "expected an octal mode" in err


@pytest.mark.skipif(not AS_ROOT, reason="needs root to check the store as another user (runuser)")
@pytest.mark.parametrize("name", ["rds.pem", "rds-dir"])
def test_another_user_can_read_a_store_built_by_root(umask_022: None, shared_dir: Path, name: str) -> None:
    out = shared_dir / name
    assert build(out)[0] == 0
    target = out if name.endswith(".pem") else next(out.iterdir())
    proc = subprocess.run(["runuser", "-u", "nobody", "--", "cat", str(target)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "BEGIN CERTIFICATE" in proc.stdout


# -- replacing -----------------------------------------------------------------------------------------------------


def test_concurrent_pem_dir_builds_all_succeed_and_leave_nothing_behind(tmp_path: Path) -> None:
    entries = ts.select((ts.classify(c) for c in ts.load(BUNDLE.read_bytes(), "bundle")), dt.date(2026, 11, 27))
    out = tmp_path / "rds"

    def one(_: int) -> int:
        return len(ts.write_store(entries, "pem-dir", out, None, force=True))

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        counts = list(pool.map(one, range(30)))
    assert counts == [93] * 30
    assert len(ts.read(out)) == 93
    assert leftovers(tmp_path) == []


def test_pem_dir_is_swapped_in_and_never_absent(tmp_path: Path) -> None:
    from rdsca import files

    old, new = tmp_path / "a", tmp_path / "b"
    old.mkdir()
    (old / "old.pem").write_text("old")
    new.mkdir()
    (new / "new.pem").write_text("new")
    assert files.exchange(new, old) is True  # Linux: renameat2(RENAME_EXCHANGE)
    assert [p.name for p in old.iterdir()] == ["new.pem"] and [p.name for p in new.iterdir()] == ["old.pem"]


@pytest.mark.parametrize("dangling", [True, False])
def test_a_link_at_out_needs_force_and_keeps_pointing_at_the_store(tmp_path: Path, dangling: bool) -> None:
    target = tmp_path / "real.pem"
    if not dangling:
        target.write_text("old store")
    link = tmp_path / "link.pem"
    link.symlink_to(target)
    code, _, err = build(link)
    assert code == 2 and err.strip() == f"rdsca: error: {link} exists; add --force to replace it"
    assert target.exists() is not dangling
    assert build(link, "--force")[0] == 0
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text().count("BEGIN CERTIFICATE") == 93


def test_out_that_is_a_directory_is_refused_for_a_file_store(tmp_path: Path) -> None:
    out = tmp_path / "store.p12"
    out.mkdir()
    code, _, err = build(out, "--force")
    assert code == 2 and err.strip() == f"rdsca: error: {out} is a directory; a pkcs12 store is a file"
    assert out.is_dir() and list(out.iterdir()) == []


def nobody_can_run_rdsca() -> bool:
    """Whether user `nobody` can start this interpreter and import rdsca.

    Not so when the interpreter or its shared library lives under a private home (a pyenv build under /root, whose
    virtualenv links back there): the test cannot run as another user then, which says nothing about rdsca.
    """
    proc = subprocess.run(["runuser", "-u", "nobody", "--", sys.executable, "-c", "import rdsca.cli"],
                          capture_output=True, text=True, timeout=120)
    return proc.returncode == 0


@pytest.mark.skipif(not AS_ROOT, reason="needs root to run the build as another user (runuser)")
def test_a_directory_the_user_cannot_write_is_one_line(shared_dir: Path) -> None:
    if not nobody_can_run_rdsca():
        pytest.skip(f"user nobody cannot run {sys.executable} (it or its libraries are in a private directory)")
    proc = subprocess.run(
        ["runuser", "-u", "nobody", "--", sys.executable, "-m", "rdsca.cli", "truststore", "build",
         "--bundle", str(BUNDLE), "--out", str(shared_dir / "rds.pem")],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"rdsca: error: cannot write {shared_dir / 'rds.pem'}: Permission denied"
    assert list(shared_dir.iterdir()) == []


def test_an_empty_password_is_refused(tmp_path: Path) -> None:
    code, _, err = run("build", "--bundle", str(BUNDLE), "--out", str(tmp_path / "rds.p12"), "--password-env", "EMPTY",
                       env={"EMPTY": ""})
    assert code == 2 and "needs a password that is not empty" in err
    assert list(tmp_path.iterdir()) == []


# -- reading -------------------------------------------------------------------------------------------------------


def test_inspect_and_verify_read_the_pem_dir_build_writes(tmp_path: Path) -> None:
    out = tmp_path / "rds"
    assert build(out)[0] == 0
    code, text, err = run("inspect", str(out), "--format", "json", "--require-region", "eu-west-1")
    assert code == 0, err
    assert len(json.loads(text)["certificates"]) == 93


def test_the_summary_never_prints_none_as_a_region() -> None:
    code, text, _ = run("inspect", str(BUNDLE))
    assert code == 0
    assert "None" not in text
    assert "global (beta)" in text


@pytest.mark.parametrize("source", ["empty", "/dev/null"])
def test_an_empty_file_is_empty_not_a_store_that_needs_a_password(tmp_path: Path, source: str) -> None:
    path = Path(source) if source.startswith("/") else tmp_path / "empty.pem"
    if not path.exists():
        path.write_bytes(b"")
    code, _, err = run("inspect", str(path))
    assert code == 2 and err.strip() == f"rdsca: error: {path}: empty file"


def test_a_jks_with_a_corrupt_certificate_entry_is_one_line(tmp_path: Path) -> None:
    import jks  # purejks

    store = jks.KeyStore.new("jks", [jks.TrustedCertEntry.new("broken", b"\x30\x03garbage")])
    path = tmp_path / "broken.jks"
    path.write_bytes(store.saves("s3cret-pass"))
    code, _, err = run("inspect", str(path), "--password-env", "STORE_PW", env=ENV)
    assert code == 2 and err.strip() == f"rdsca: error: {path}: entry 'broken' is not a readable certificate"


def test_a_missing_directory_is_not_created(tmp_path: Path) -> None:
    out = tmp_path / "typo" / "rds.pem"
    code, _, err = build(out)
    assert code == 2 and err.strip() == f"rdsca: error: cannot write {out}: no directory {out.parent} (rdsca does not create it)"
    assert not out.parent.exists()


def test_a_root_from_no_rds_ca_is_left_out_unless_asked(tmp_path: Path) -> None:
    from .probe import pki

    mixed = tmp_path / "mixed.pem"
    mixed.write_bytes(BUNDLE.read_bytes() + pki.ca("someone else's root", kind="rsa").pem)
    code, _, err = run("build", "--bundle", str(mixed), "--out", str(tmp_path / "rds.pem"))
    assert code == 0 and "warning: left out \"someone else's root\"" in err
    assert not any(e.cn == "someone else's root" for e in ts.read(tmp_path / "rds.pem"))
    code, _, _ = run("build", "--bundle", str(mixed), "--out", str(tmp_path / "other.pem"), "--families", "other")
    assert code == 0 and [e.cn for e in ts.read(tmp_path / "other.pem")] == ["someone else's root"]


def test_mode_must_be_octal_from_0_to_7777(tmp_path: Path) -> None:
    code, _, err = build(tmp_path / "rds.pem", "--mode", "-1")
    assert code == 2 and "a mode is an octal number from 0 to 7777" in err


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_build_force_does_not_replace_something_that_is_not_a_file(tmp_path: Path) -> None:
    """`truststore build --out X --force` renames a regular file over whatever X is: run as root with
    `--out /dev/null --force` it replaced the system's /dev/null device with a PEM file. A FIFO shows the same
    without root: it must be refused (exit 2) and left as it was."""
    fifo = tmp_path / "store.pem"
    os.mkfifo(fifo)
    code, out, err = invoke("truststore", "build", "--bundle", str(BUNDLE), "--out", str(fifo), "--force")
    assert fifo.is_fifo(), "the FIFO at --out was replaced by a regular file"
    one_error_line(code, out, err)


def test_build_does_not_silently_add_a_root_from_no_rds_ca(tmp_path: Path) -> None:
    """`truststore build` keeps a certificate of family 'other' (not an RDS CA) by default and says nothing, and
    `--download --base-url http://...` takes the bundle over plain HTTP: whoever can alter the mirror or the
    connection adds a root of their own to every client's trust store. An RDS trust store should drop a root from
    no RDS CA (or keep it only when asked), and at the very least say so."""
    root = pki.ca("not an RDS root", kind="rsa")
    mixed = tmp_path / "mixed.pem"
    mixed.write_bytes(BUNDLE.read_bytes() + root.pem)
    out = tmp_path / "store.pem"
    code, _out, err = invoke("truststore", "build", "--bundle", str(mixed), "--out", str(out))
    assert code == 0, err
    kept = any(e.cn == "not an RDS root" for e in ts.read(out))
    assert not kept or "not an RDS root" in err, "a root from no RDS CA was added to the store without a word"


def test_build_force_replaces_a_store_but_never_a_folder_of_other_files(tmp_path: Path) -> None:
    """`truststore build --out DIR --force` on a directory of unrelated files replaced everything with PEM files."""
    store = tmp_path / "store"
    args = ("truststore", "build", "--bundle", str(BUNDLE), "--out", str(store), "--store-format", "pem-dir")
    assert invoke(*args)[0] == 0
    assert invoke(*args, "--force")[0] == 0  # a store rdsca wrote is replaced
    folder = tmp_path / "home"
    folder.mkdir()
    (folder / "thesis.tex").write_text("years of work")
    line = one_error_line(*invoke(*args[:-3], str(folder), "--store-format", "pem-dir", "--force"))
    assert "is not a pem-dir store rdsca wrote (it holds 'thesis.tex'" in line
    assert (folder / "thesis.tex").read_text() == "years of work"
