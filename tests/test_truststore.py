"""``rdsca truststore``: the real RDS bundle, generated chains, PKCS#12/JKS round trips (and keytool where present)."""

from __future__ import annotations

import collections
import datetime as dt
import functools
import http.server
import json
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID

from rdsca import truststore as ts
from rdsca.cli import cli

from .conftest import FIXTURES

BUNDLE = FIXTURES / "rds-global-bundle-2024-06.pem"
KEYTOOL = shutil.which("keytool")


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["truststore", *args], env=env, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def inspect_json(path: Path, *args: str, env: dict[str, str] | None = None) -> dict:
    code, out, err = run("inspect", str(path), "--format", "json", *args, env=env)
    assert code in (0, 1), err
    return json.loads(out)


def test_real_bundle_counts_per_family_kind_and_expiry() -> None:
    report = inspect_json(BUNDLE)
    counts = collections.Counter((c["family"], c["kind"], c["expired"]) for c in report["certificates"])
    assert counts == {
        ("rds-ca-2019", "root", True): 6,  # the 2019 root, af/eu/me-south-1 roots, Beta and Preview 2019 roots
        ("rds-ca-2019", "intermediate", True): 22,
        ("rds-ca-rsa2048-g1", "root", False): 31,  # 29 regions + Beta us-east-1 + Preview us-east-2
        ("rds-ca-rsa4096-g1", "root", False): 31,
        ("rds-ca-ecc384-g1", "root", False): 31,
    }
    by_cn = {c["subject_cn"]: c for c in report["certificates"]}
    west = by_cn["Amazon RDS us-west-2 Root CA RSA2048 G1"]
    assert (west["region"], west["key_type"], west["valid_until"]) == ("us-west-2", "RSA2048", "2061-05-24T22:59:00Z")
    assert by_cn["Amazon RDS us-east-1 Root CA ECC384 G1"]["key_type"] == "EC secp384r1"
    assert by_cn["Amazon RDS Beta us-east-1 Root CA RSA2048 G1"]["stage"] == "beta"
    assert by_cn["Amazon RDS Root 2019 CA"]["days_left"] == (dt.date(2024, 8, 22) - dt.date(2026, 11, 27)).days
    # Every G1 root agrees with the catalog's per-region dates.
    from rdsca import catalog

    for c in report["certificates"]:
        if c["family"] in catalog.CURRENT_CAS and c["stage"] is None:
            until = catalog.CATALOG[c["family"]].valid_until_in(c["region"])
            assert until is not None and until.strftime("%Y-%m-%dT%H:%M:%SZ") == c["valid_until"]


def test_expiry_is_judged_against_the_pinned_today() -> None:
    report = inspect_json(BUNDLE, "--as-of", "2061-05-22")
    expired = {c["subject_cn"] for c in report["certificates"] if c["expired"] and c["family"] != "rds-ca-2019"}
    assert "Amazon RDS eu-west-1 Root CA RSA2048 G1" in expired  # until 2061-05-20
    assert "Amazon RDS us-west-2 Root CA RSA2048 G1" not in expired  # until 2061-05-24


def test_region_and_family_requirements() -> None:
    assert run("inspect", str(BUNDLE), "--require-region", "us-west-2", "--require-family", "rds-ca-ecc384-g1")[0] == 0
    code, out, _ = run("inspect", str(BUNDLE), "--require-region", "xx-nowhere-1")
    assert code == 1 and "unmet: no current root for xx-nowhere-1" in out
    # The 2019 family has no current root left.
    code, out, _ = run("inspect", str(BUNDLE), "--require-family", "rds-ca-2019")
    assert code == 1 and "unmet: no current rds-ca-2019 root" in out


def test_pkcs7_bundle(tmp_path: Path) -> None:
    certs = x509.load_pem_x509_certificates(BUNDLE.read_bytes())
    p7b = tmp_path / "global-bundle.p7b"
    p7b.write_bytes(pkcs7.serialize_certificates(certs, serialization.Encoding.DER))
    assert len(inspect_json(p7b)["certificates"]) == 121


ENV = {"STORE_PW": "s3cret-pass"}


@pytest.mark.parametrize("name", ["rds.p12", "rds.jks", "rds.pem", "rds-dir"])
def test_build_and_read_back(tmp_path: Path, name: str) -> None:
    out = tmp_path / name
    code, text, err = run("build", "--bundle", str(BUNDLE), "--out", str(out), "--password-env", "STORE_PW",
                          "--format", "json", env=ENV)
    assert code == 0, err
    written = json.loads(text)["entries"]
    assert len(written) == 93  # current roots only: no intermediates, nothing expired
    report = inspect_json(out, "--password-env", "STORE_PW", env=ENV) if name != "rds-dir" else None
    if report is not None:
        assert len(report["certificates"]) == 93
        assert {c["kind"] for c in report["certificates"]} == {"root"}
        assert not any(c["expired"] for c in report["certificates"])
    aliases = [w["alias"] for w in written]
    assert len(set(aliases)) == 93 and "amazon-rds-us-west-2-root-ca-rsa2048-g1" in aliases


@pytest.mark.skipif(KEYTOOL is None, reason="no JDK keytool on this machine")
@pytest.mark.parametrize(("name", "storetype"), [("rds.p12", "PKCS12"), ("rds.jks", "JKS")])
def test_keytool_reads_the_same_entries(tmp_path: Path, name: str, storetype: str) -> None:
    out = tmp_path / name
    code, text, _ = run("build", "--bundle", str(BUNDLE), "--out", str(out), "--password-env", "STORE_PW",
                        "--format", "json", env=ENV)
    assert code == 0
    listing = subprocess.run(
        [KEYTOOL, "-list", "-keystore", str(out), "-storetype", storetype, "-storepass", ENV["STORE_PW"]],
        capture_output=True, text=True, check=True,
    ).stdout
    entries = {line.split(",")[0] for line in listing.splitlines() if "trustedCertEntry" in line}
    assert entries == {w["alias"] for w in json.loads(text)["entries"]}


def test_same_input_same_store(tmp_path: Path) -> None:
    outputs = []
    for i in (1, 2):
        code, text, _ = run("build", "--bundle", str(BUNDLE), "--out", str(tmp_path / f"s{i}.p12"),
                            "--password-env", "STORE_PW", "--format", "json", env=ENV)
        assert code == 0
        outputs.append(json.loads(text)["entries"])
    assert outputs[0] == outputs[1]
    for i in (1, 2):
        run("build", "--bundle", str(BUNDLE), "--out", str(tmp_path / f"b{i}.pem"))
    assert (tmp_path / "b1.pem").read_bytes() == (tmp_path / "b2.pem").read_bytes()


def test_filters_and_keep_options(tmp_path: Path) -> None:
    code, text, _ = run("build", "--bundle", str(BUNDLE), "--out", str(tmp_path / "one.pem"), "--regions", "us-west-2",
                        "--families", "rds-ca-rsa2048-g1", "--format", "json")
    assert code == 0
    assert [e["alias"] for e in json.loads(text)["entries"]] == ["amazon-rds-us-west-2-root-ca-rsa2048-g1"]
    code, text, _ = run("build", "--bundle", str(BUNDLE), "--out", str(tmp_path / "all.pem"), "--include-intermediates",
                        "--keep-expired", "--format", "json")
    assert code == 0 and len(json.loads(text)["entries"]) == 121


def test_existing_store_is_not_overwritten_without_force(tmp_path: Path) -> None:
    out = tmp_path / "rds.pem"
    out.write_text("keep me")
    code, _, err = run("build", "--bundle", str(BUNDLE), "--out", str(out))
    assert code == 2 and err.strip() == f"rdsca: error: {out} exists; add --force to replace it"
    assert out.read_text() == "keep me"
    assert run("build", "--bundle", str(BUNDLE), "--out", str(out), "--force")[0] == 0
    assert out.read_text().count("BEGIN CERTIFICATE") == 93


def test_bad_inputs_leave_the_existing_store_untouched(tmp_path: Path) -> None:
    out = tmp_path / "rds.pem"
    out.write_text("keep me")
    truncated = tmp_path / "cut.pem"
    truncated.write_bytes(BUNDLE.read_bytes()[:5000])
    code, _, err = run("build", "--bundle", str(truncated), "--out", str(out), "--force")
    assert code == 2 and "truncated PEM" in err and out.read_text() == "keep me"
    junk = tmp_path / "junk.txt"
    junk.write_text("not a certificate\n")
    code, _, err = run("inspect", str(junk), "--password-env", "STORE_PW", env=ENV)
    assert code == 2 and "not a certificate bundle" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut.pem", "junk.txt", "rds.pem"]  # no temporary left


@pytest.mark.parametrize("name", ["rds.p12", "rds.jks"])
def test_wrong_password_and_no_password(tmp_path: Path, name: str) -> None:
    out = tmp_path / name
    assert run("build", "--bundle", str(BUNDLE), "--out", str(out), "--password-env", "STORE_PW", env=ENV)[0] == 0
    code, _, err = run("inspect", str(out), "--password-env", "WRONG", env={"WRONG": "nope"})
    assert code == 2 and ("password" in err)
    code, _, err = run("inspect", str(out))
    assert code == 2
    assert err.strip() == "rdsca: error: this store needs a password: give --password-env VAR (there is no terminal to prompt on)"
    code, _, err = run("inspect", str(out), "--password-env", "UNSET_VAR")
    assert code == 2 and "UNSET_VAR: the environment variable is not set" in err


# -- verify, with generated certificates ---------------------------------------------------------------------------


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _cert(subject: str, issuer: str, key, signing_key, days: int, ca: bool) -> x509.Certificate:
    now = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    return (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .sign(signing_key, hashes.SHA256())
    )


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("chain")
    root_key = ec.generate_private_key(ec.SECP384R1())
    root_cn = "Amazon RDS eu-test-1 Root CA ECC384 G1"
    root = _cert(root_cn, root_cn, root_key, root_key, 3650, True)
    server_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    server = _cert("db.eu-test-1.rds.example", root_cn, server_key, root_key, 365, False)
    other_key = ec.generate_private_key(ec.SECP384R1())
    impostor = _cert(root_cn, root_cn, other_key, other_key, 3650, True)  # same name, other key
    pem = serialization.Encoding.PEM
    paths = {"root": tmp / "root.pem", "server": tmp / "server.pem", "impostor": tmp / "impostor.pem"}
    paths["root"].write_bytes(root.public_bytes(pem))
    paths["server"].write_bytes(server.public_bytes(pem))
    paths["impostor"].write_bytes(impostor.public_bytes(pem))
    return paths


def test_verify_a_generated_chain(chain: dict[str, Path]) -> None:
    code, out, _ = run("verify", str(chain["server"]), "--bundle", str(chain["root"]), "--format", "json")
    assert code == 0
    report = json.loads(out)
    assert report["chains"] is True
    assert (report["root"]["family"], report["root"]["region"]) == ("rds-ca-ecc384-g1", "eu-test-1")
    assert report["server_certificate_valid_until"] == "2027-01-01T00:00:00Z"


def test_verify_refuses_a_root_with_the_right_name_and_the_wrong_key(chain: dict[str, Path]) -> None:
    code, out, _ = run("verify", str(chain["server"]), "--bundle", str(chain["impostor"]))
    assert code == 1 and (
        "problem: db.eu-test-1.rds.example is issued by Amazon RDS eu-test-1 Root CA ECC384 G1, which is not a root "
        "in the store" in out
    )
    code, out, _ = run("verify", str(chain["server"]), "--bundle", str(BUNDLE))
    assert code == 1


def test_verify_an_expired_server_certificate(chain: dict[str, Path], tmp_path: Path) -> None:
    out_json, out_junit = tmp_path / "v.json", tmp_path / "v.xml"
    code, out, _ = run("verify", str(chain["server"]), "--bundle", str(chain["root"]), "--as-of", "2027-06-01",
                       "--output", f"json={out_json}", "--output", f"junit={out_junit}")
    assert code == 1 and "problem: the server certificate db.eu-test-1.rds.example expired on 2027-01-01" in out
    assert json.loads(out_json.read_text())["chains"] is False  # --output: the same run in another format
    assert 'failures="1"' in out_junit.read_text()


# -- download ------------------------------------------------------------------------------------------------------


@pytest.fixture
def mirror(tmp_path: Path) -> Iterator[str]:
    (tmp_path / "global").mkdir()
    (tmp_path / "global" / "global-bundle.pem").write_bytes(BUNDLE.read_bytes())
    (tmp_path / "us-west-2").mkdir()
    west = [c for c in x509.load_pem_x509_certificates(BUNDLE.read_bytes()) if "us-west-2" in ts.classify(c).cn]
    (tmp_path / "us-west-2" / "us-west-2-bundle.pem").write_bytes(
        b"".join(c.public_bytes(serialization.Encoding.PEM) for c in west)
    )
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *a: None  # type: ignore[method-assign]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_download_global_and_regional(mirror: str, tmp_path: Path) -> None:
    code, text, _ = run("build", "--download", "--base-url", mirror, "--out", str(tmp_path / "g.pem"), "--format", "json")
    assert code == 0 and len(json.loads(text)["entries"]) == 93
    code, text, _ = run("build", "--download", "--region", "us-west-2", "--base-url", mirror,
                        "--out", str(tmp_path / "w.pem"), "--format", "json")
    assert code == 0 and len(json.loads(text)["entries"]) == 3
    code, _, err = run("build", "--download", "--region", "xx-none-1", "--base-url", mirror, "--out", str(tmp_path / "x.pem"))
    assert code == 2 and "cannot download" in err and not (tmp_path / "x.pem").exists()


def test_a_govcloud_region_s_bundle_comes_from_govcloud_s_host(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 25.6: `--download --region us-gov-west-1` asked the commercial host, which has no GovCloud bundle."""
    import urllib.request

    asked = []

    def refuse(url: str, timeout: float) -> None:
        asked.append(url)
        raise OSError("offline")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    code, _, err = run("build", "--download", "--region", "us-gov-west-1", "--out", str(tmp_path / "g.pem"))
    assert code == 2 and "cannot download" in err
    assert asked == ["https://truststore.pki.us-gov-west-1.rds.amazonaws.com/us-gov-west-1/us-gov-west-1-bundle.pem"]


def test_usage_errors(tmp_path: Path) -> None:
    assert run("build", "--out", str(tmp_path / "a.pem"))[0] == 2
    assert run("build", "--bundle", str(BUNDLE), "--download", "--out", str(tmp_path / "a.pem"))[0] == 2
    code, _, err = run("build", "--bundle", str(BUNDLE), "--out", str(tmp_path / "a.weird"))
    assert code == 2 and "give --store-format" in err


def test_verify_takes_suppressions_and_baselines(chain: dict[str, Path], tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 26.1/26.2: verify's problems (rdsca-verify-<code>) can be accepted in the configuration file or a
    baseline, like every command's findings."""
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    args = ("verify", str(chain["server"]), "--bundle", str(chain["root"]), "--as-of", "2027-06-01")
    code, _, _ = run(*args, "--create-baseline", "base.json")
    assert code == 1 and "rdsca-verify-expired" in (tmp_path / "base.json").read_text()
    code, out, _ = run(*args, "--baseline", "base.json", "--format", "json")
    assert code == 0 and json.loads(out)["results"][0]["suppressed"]["location"] == "base.json"
    (tmp_path / ".rdsca.yaml").write_text("skip:\n  - {policy: rdsca-verify-expired, reason: a test chain}\n")
    code, out, _ = run(*args)
    assert code == 0 and "rdsca-verify-expired" in out and "a test chain" in out
