"""Roots count as AWS's by their key, never by their name (issue 24.6): a self-made root named like an RDS root
made ``probe --store`` answer "ready" and ``truststore inspect`` list it as AWS's root."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography import x509

from rdsca import truststore as ts
from rdsca.cli import cli
from rdsca.truststore import aws_roots

from .conftest import FIXTURES, REPO
from .probe import pki

BUNDLE = FIXTURES / "rds-global-bundle-2024-06.pem"
NAME = "Amazon RDS us-east-1 Root CA RSA2048 G1"


@pytest.fixture
def impostor(tmp_path: Path) -> Path:
    """A root anyone could make, named exactly like AWS's us-east-1 RSA2048 root."""
    path = tmp_path / "look-alike.pem"
    path.write_bytes(pki.ca(NAME, kind="rsa").pem)
    return path


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_the_known_keys_are_exactly_the_roots_of_the_bundle() -> None:
    """``aws_roots_data`` is generated from the fixture bundle by tools/aws_roots.py: the two cannot drift."""
    certs = x509.load_pem_x509_certificates(BUNDLE.read_bytes())
    roots = {aws_roots.key_id(c): ts.common_name(c.subject) for c in certs if c.subject == c.issuer}
    assert roots == aws_roots.ROOT_KEYS and len(roots) == 99
    generated = (REPO / "rdsca" / "truststore" / "aws_roots_data.py").read_text()
    import importlib.util

    spec = importlib.util.spec_from_file_location("aws_roots_tool", REPO / "tools" / "aws_roots.py")
    assert spec and spec.loader
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    assert tool.render(BUNDLE) == generated


def test_every_real_root_is_aws_and_a_look_alike_is_not(impostor: Path) -> None:
    assert all(e.aws_key and not e.impostor for e in ts.read(BUNDLE))
    (fake,) = ts.read(impostor)
    assert (fake.family, fake.region, fake.root) == ("rds-ca-rsa2048-g1", "us-east-1", True)
    assert fake.impostor and not fake.aws_key


def test_inspect_does_not_count_a_look_alike(impostor: Path) -> None:
    code, out, err = run("truststore", "inspect", str(impostor), "--require-region", "us-east-1", "--format", "json")
    assert code == 1, err
    doc = json.loads(out)
    assert doc["certificates"][0]["aws_key"] is False
    assert doc["summary"] == [{"family": "other", "region": None, "roots": 1, "intermediates": 0, "expired": 0}]
    assert doc["unmet"] == [f"no current root for us-east-1 (its '{NAME}' is not AWS's key)"]
    assert f"warning: '{NAME}'" in err and "is named like an RDS root but its key is not one of AWS's" in err

    code, out, _ = run("truststore", "inspect", str(impostor))
    assert code == 0 and "root (not AWS's key)" in out


def test_known_roots_vouches_for_a_bundle(impostor: Path) -> None:
    """GovCloud's, China's or a newer bundle's roots are not in rdsca's list: --known-roots (or its environment
    variable) counts them."""
    args = ("truststore", "inspect", str(impostor), "--require-region", "us-east-1", "--format", "json")
    code, out, err = run(*args, "--known-roots", str(impostor))
    assert code == 0 and json.loads(out)["unmet"] == [] and "warning" not in err
    aws_roots.forget()
    code, _, _ = run(*args, env={"RDSCA_KNOWN_ROOTS": str(impostor)})
    assert code == 0


def test_known_roots_without_a_root_is_a_usage_error(tmp_path: Path) -> None:
    leaf = pki.server(["db.example"], pki.ca("some root"))
    path = tmp_path / "leaf.pem"
    path.write_bytes(leaf.pem)
    code, _, err = run("truststore", "inspect", str(BUNDLE), "--known-roots", str(path))
    assert code == 2 and f"{path}: holds no root certificate" in err


def test_build_leaves_a_look_alike_out(impostor: Path, tmp_path: Path) -> None:
    bundle = tmp_path / "mixed.pem"
    bundle.write_bytes(BUNDLE.read_bytes() + impostor.read_bytes())
    out = tmp_path / "store.pem"
    code, _stdout, err = run("truststore", "build", "--bundle", str(bundle), "--out", str(out), "--regions",
                            "us-east-1", "--families", "rds-ca-rsa2048-g1", "--format", "json")
    assert code == 0, err
    assert "is named like an RDS root but its key is not one of AWS's" in err
    written = x509.load_pem_x509_certificates(out.read_bytes())
    fake = aws_roots.key_id(x509.load_pem_x509_certificate(impostor.read_bytes()))
    assert written and all(aws_roots.is_aws(c) for c in written)
    assert fake not in {aws_roots.key_id(c) for c in written}


def test_verify_says_a_look_alike_is_not_aws(impostor: Path, tmp_path: Path) -> None:
    root = pki.ca(NAME, kind="rsa")
    store = tmp_path / "root.pem"
    store.write_bytes(root.pem)
    chain, _ = pki.write(tmp_path, "db", pki.server(["db.example"], root))
    code, out, _ = run("truststore", "verify", str(chain), "--bundle", str(store))
    assert code == 0 and f"chains to {NAME} (not AWS's key)" in out
