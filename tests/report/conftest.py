"""Real outputs of the other commands, made once per session: the report's inputs."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from ..conftest import REPO, rdsca


@pytest.fixture(scope="session")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Real JSON from audit --demo, check of the legacy Pulumi stack and of a Terraform configuration that declares
    one of the demo account's databases by a retired CA."""
    out = tmp_path_factory.mktemp("outputs")
    infra = out / "infra"
    infra.mkdir()
    (infra / "main.tf").write_text(textwrap.dedent("""\
        resource "aws_db_instance" "reports" {
          identifier         = "reports-mariadb"
          engine             = "mariadb"
          engine_version     = "10.6.16"
          instance_class     = "db.t4g.small"
          ca_cert_identifier = "rds-ca-2019"
        }
        """))
    runs = {
        "audit": ("audit", "--demo", "--as-of", "2026-11-27"),
        "pulumi": ("check", REPO / "examples" / "legacy-stack", "--policy-pack", REPO / "policies"),
        "terraform": ("check", infra),
    }
    paths = {}
    for name, args in runs.items():
        done = rdsca(*args, "--format", "json")
        assert done.returncode == 1, (name, done.stderr)
        paths[name] = out / f"{name}.json"
        paths[name].write_text(done.stdout)
    return paths


