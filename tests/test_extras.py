"""The light core (issue 27.1): without rdsca[pulumi] and rdsca[demo], the Terraform check, the trust-store and
audit commands run and never try to import gRPC or a Pulumi SDK; a job that needs an extra says which, exit 2.

A core install is made from this environment: a folder of links to every installed distribution except the extras'
(pulumi, pulumi-aws, pulumi-policy, grpc, protobuf, moto), put on ``sys.path`` of an interpreter started without
``site``; a meta-path finder records every attempt to import one of them."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

from .conftest import REPO, write_program

HIDDEN = ("pulumi", "pulumi_aws", "pulumi_policy", "grpc", "google", "moto")
RUNNER = textwrap.dedent("""
    import sys

    HIDDEN, LOG = sys.argv[1].split(","), sys.argv[2]
    sys.path[:0] = [sys.argv[3], sys.argv[4]]

    class Record:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in HIDDEN:
                with open(LOG, "a") as log:
                    log.write(name + "\\n")
            return None

    sys.meta_path.insert(0, Record())
    code = sys.argv[5]
    sys.argv = ["rdsca", *sys.argv[6:]]
    exec(compile(code, "<test>", "exec"))
""")


@pytest.fixture(scope="module")
def core_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = tmp_path_factory.mktemp("core-site")
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        top = entry.name.split("-")[0].split(".")[0].lower()
        if top in HIDDEN or top.startswith(("pulumi", "grpc", "protobuf", "moto", "__editable__", "rdsca")):
            continue
        if entry.suffix == ".pth":
            continue
        (site / entry.name).symlink_to(entry)
    return site


def core(core_site: Path, tmp_path: Path, *args: str | Path,
         code: str = "from rdsca.cli import main; main()") -> tuple[subprocess.CompletedProcess[str], list[str]]:
    runner = tmp_path / "runner.py"
    runner.write_text(RUNNER)
    log = tmp_path / "imports.log"
    log.unlink(missing_ok=True)
    proc = subprocess.run([sys.executable, "-S", str(runner), ",".join(HIDDEN), str(log), str(REPO), str(core_site),
                           code, *map(str, args)], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          check=False)
    return proc, (log.read_text().split() if log.exists() else [])


def test_the_terraform_path_never_imports_grpc_or_a_pulumi_sdk(core_site: Path, tmp_path: Path) -> None:
    proc, tried = core(core_site, tmp_path, code="import grpc")  # the core install really lacks the extras
    assert "No module named 'grpc'" in proc.stderr and tried == ["grpc"]
    config = tmp_path / "config.json"
    config.write_text('{"rds-ca-expiring": "mandatory"}')
    proc, tried = core(core_site, tmp_path, "check", REPO / "examples" / "terraform-legacy",
                       "--policy-pack-config", config, "--format", "sarif")
    assert proc.returncode == 1, proc.stderr
    assert tried == []
    for args in (("list-rules",), ("truststore", "--help"), ("audit", "--help"), ("--version",)):
        proc, tried = core(core_site, tmp_path, *args)
        assert proc.returncode == 0 and tried == [], (args, proc.stderr)


def test_a_job_that_needs_an_extra_names_it(core_site: Path, tmp_path: Path) -> None:
    proc, _ = core(core_site, tmp_path, "audit", "--demo")
    assert proc.returncode == 2 and proc.stderr.splitlines() == [
        "rdsca: error: --demo (a fake AWS account) needs rdsca[demo], which is not installed here",
        "rdsca: hint: pip install 'rdsca[demo]' (from a clone: pip install '.[demo]')"]
    program = write_program(tmp_path / "prog", "import pulumi\n")  # no virtualenv: rdsca's own interpreter
    proc, _ = core(core_site, tmp_path, "check", program)
    assert proc.returncode == 2 and "needs rdsca[pulumi]" in proc.stderr, proc.stderr
    proc, _ = core(core_site, tmp_path, "check", program, "--policy-pack", REPO / "policies")
    assert proc.returncode == 2 and "needs rdsca[pulumi]" in proc.stderr, proc.stderr


@pytest.mark.parametrize("name", ["CertificateRotation", "rotate_all"])
def test_the_component_says_it_needs_the_pulumi_extra(core_site: Path, tmp_path: Path, name: str) -> None:
    proc, _ = core(core_site, tmp_path, code=f"from rdsca import {name}")
    assert proc.returncode == 1 and "needs rdsca[pulumi] (pip install 'rdsca[pulumi]')" in proc.stderr
