"""Encrypted stack config (issue 23.12): decrypted as the CLI's passphrase provider does, never shown; where it
cannot be decrypted, said, and a CA that may come from it is "cannot decide", never a pass with a wrong reason."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from rdsca.runner import stack_secrets
from rdsca.runner.project import load_project

from ..conftest import REPO, rdsca, write_program

PACK = REPO / "policies"


@pytest.fixture(autouse=True)
def no_passphrase(monkeypatch: pytest.MonkeyPatch) -> None:
    """The passphrase comes from each test, never from the machine running them."""
    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE", raising=False)
    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE_FILE", raising=False)


#: A stack's encryptionsalt written by the Pulumi CLI for the passphrase "password" (pulumi/pulumi
#: pkg/secrets/passphrase/manager_test.go): the algorithm here opens the CLI's own check value.
CLI_SALT = "v1:fozI5u6B030=:v1:F+6ZduKKd8G0/V7L:PGMFeIzwobWRKmEAzUdaQHqC5mMRIQ=="
#: A stack file the Pulumi CLI (1.x) wrote, published in bincyber/pitfall's README.md (commit 273f9d2a161f), with the
#: passphrase its README gives as the default PULUMI_CONFIG_PASSPHRASE, "pulumi". Its secure value is 32 random
#: bytes (os.urandom(32)): AES-GCM's tag proves the key and the algorithm, and the plaintext is not UTF-8.
PITFALL_STACK = """\
config:
  aws:region: us-east-1
  pitf-project-99c24db7cc324cf9:dbpassword:
    secure: v1:6UEXewJReYiPCgrg:fOFTB4ODFyZB0bvHA2lhoZJ3khCOQCkX8n5OhLXjgSECbu+WrcIQ+wl0HaZhZ/4v
encryptionsalt: v1:GEHe83S30O0=:v1:s8vb7cVFSz64pUmv:Ff5AbbcbTSim8cBwDCQCwraGHEQQ/A==
"""
PROGRAM = """
import pulumi, pulumi_aws as aws
config = pulumi.Config()
aws.rds.Instance("db", engine="mysql", instance_class="db.t3.micro", ca_cert_identifier=config.require_secret("ca"))
"""


def _key(state: str, passphrase: str) -> bytes:
    salt = base64.b64decode(state.split(":")[1])
    return stack_secrets._key(passphrase, salt)


def _stack(tmp_path: Path, *, salt: str | None = CLI_SALT, provider: str | None = None) -> Path:
    value = stack_secrets.encrypt(_key(CLI_SALT, "password"), "rds-ca-2019", b"\x01" * 12)
    lines = [f"encryptionsalt: {salt}"] if salt else []
    lines += [f"secretsprovider: {provider}"] if provider else []
    lines += ["config:", "  testprog:ca:", f"    secure: {value}"]
    return write_program(tmp_path / "prog", PROGRAM, stacks={"dev": "\n".join(lines) + "\n"})


def test_the_cli_s_own_check_value_opens_with_its_passphrase() -> None:
    assert stack_secrets._passphrase_key(CLI_SALT, "password", Path("Pulumi.dev.yaml"))
    with pytest.raises(stack_secrets.StackSecretsError, match="incorrect passphrase"):
        stack_secrets._passphrase_key(CLI_SALT, "password123", Path("Pulumi.dev.yaml"))


def test_a_stack_file_the_cli_wrote_decrypts_with_its_passphrase(tmp_path: Path) -> None:
    """Checked against the real CLI's output, not only against this module's own encrypt."""
    program = write_program(tmp_path / "prog", "", stacks={"dev": PITFALL_STACK})
    (program / "Pulumi.yaml").write_text("name: pitf-project-99c24db7cc324cf9\nruntime: python\n")
    project = load_project(program, environ={"PULUMI_CONFIG_PASSPHRASE": "pulumi"})
    value = project.config["pitf-project-99c24db7cc324cf9:dbpassword"]
    # Go's string(msg) and encoding/json: each byte of invalid UTF-8 (every byte >= 0x80 here: no valid sequence)
    # becomes U+FFFD, as the program would get it.
    plaintext = bytes.fromhex("089598a24a6980015eabd1e4a7284d4f5c76366b0b5c8b0bb9666783ee289a4e")
    assert value == "".join(chr(b) if b < 0x80 else "\ufffd" for b in plaintext)
    assert project.secret_keys == {"pitf-project-99c24db7cc324cf9:dbpassword"} and not project.undecryptable
    with pytest.raises(stack_secrets.StackSecretsError, match="incorrect passphrase"):
        load_project(program, environ={"PULUMI_CONFIG_PASSPHRASE": ""})


def test_secure_values_inside_objects_and_arrays_are_decrypted(tmp_path: Path) -> None:
    """The CLI decrypts a secure value at any depth and makes the whole key secret (object.go, Map.SecureKeys);
    a mapping with another key beside "secure", or a non-string "secure", is plain data."""
    key = _key(CLI_SALT, "password")
    ca, token = (stack_secrets.encrypt(key, text, bytes([n]) * 12) for n, text in ((2, "rds-ca-2019"), (3, "tok3n")))
    stack = f"""\
    encryptionsalt: {CLI_SALT}
    config:
      testprog:dbs:
        - name: a
          ca:
            secure: {ca}
      testprog:nested:
        inner: {{token: {{secure: {token}}}}}
      testprog:plain:
        secure: 7
      testprog:other:
        secure: x
        more: y
    """
    program = write_program(tmp_path / "prog", "", stacks={"dev": stack})
    project = load_project(program, environ={"PULUMI_CONFIG_PASSPHRASE": "password"})
    assert json.loads(project.config["testprog:dbs"]) == [{"name": "a", "ca": "rds-ca-2019"}]
    assert json.loads(project.config["testprog:nested"]) == {"inner": {"token": "tok3n"}}
    assert json.loads(project.config["testprog:plain"]) == {"secure": 7}
    assert json.loads(project.config["testprog:other"]) == {"secure": "x", "more": "y"}
    assert project.secret_keys == {"testprog:dbs", "testprog:nested"}
    assert project.secret_values == {"rds-ca-2019", "tok3n"}
    project = load_project(program, environ={})
    assert set(project.undecryptable) == {"testprog:dbs", "testprog:nested"}
    assert "testprog:dbs" not in project.config


def test_the_passphrase_as_the_cli_reads_it(tmp_path: Path) -> None:
    """readPassphrase: PULUMI_CONFIG_PASSPHRASE when set, even empty; else the file, Go's white space trimmed
    (strings.TrimSpace keeps U+001F, which Python's strip would drop); an empty _FILE is as if unset."""
    passfile = tmp_path / "phrase"
    passfile.write_bytes(b" \t\x1fpass\xffword\xc2\xa0\n")
    assert stack_secrets.passphrase({"PULUMI_CONFIG_PASSPHRASE": "", "PULUMI_CONFIG_PASSPHRASE_FILE": "x"}) == ""
    phrase = stack_secrets.passphrase({"PULUMI_CONFIG_PASSPHRASE_FILE": str(passfile)})
    assert phrase is not None and phrase.encode("utf-8", "surrogateescape") == b"\x1fpass\xffword"
    assert stack_secrets.passphrase({"PULUMI_CONFIG_PASSPHRASE_FILE": ""}) is None
    with pytest.raises(stack_secrets.StackSecretsError, match="unable to read PULUMI_CONFIG_PASSPHRASE_FILE"):
        stack_secrets.passphrase({"PULUMI_CONFIG_PASSPHRASE_FILE": str(tmp_path / "missing")})


@pytest.mark.parametrize(
    ("provider", "salt", "why"),
    [
        ("default", CLI_SALT, None),
        ("passphrase", CLI_SALT, None),
        ("passphrase", None, "no encryptionsalt"),
        ("default", None, "no encryptionsalt"),
        ("hashivault://transit/keys/stack", CLI_SALT, "secrets provider is hashivault (hashivault://transit/keys/"),
    ],
)
def test_the_provider_is_the_one_the_cli_chooses(
    tmp_path: Path, provider: str, salt: str | None, why: str | None
) -> None:
    """GetSecretsManager: a cloud URL wins over a salt; "passphrase" and "default" with a salt are the passphrase;
    no salt is the backend's manager, whatever the provider line says."""
    decrypted = stack_secrets.decrypt(
        {"testprog:ca": {"secure": stack_secrets.encrypt(_key(CLI_SALT, "password"), "x", b"\x04" * 12)}},
        tmp_path / "Pulumi.dev.yaml", salt, provider, {"PULUMI_CONFIG_PASSPHRASE": "password"},
    )
    if why is None:
        assert decrypted.values == {"testprog:ca": "x"} and not decrypted.undecryptable
    else:
        assert why in decrypted.undecryptable["testprog:ca"] and not decrypted.values


def test_a_secret_retired_ca_is_blocked_and_never_shown(tmp_path: Path) -> None:
    """It passed with "comes from another resource's output"; a real preview decrypts it and blocks it."""
    program = _stack(tmp_path)
    reports = {fmt: tmp_path / f"report.{fmt}" for fmt in ("json", "sarif", "pulumi", "junit")}
    outputs = [arg for fmt, path in reports.items() for arg in ("--output", f"{fmt}={path}")]
    proc = rdsca("check", program, "--policy-pack", PACK, *outputs, env={"PULUMI_CONFIG_PASSPHRASE": "password"})
    assert proc.returncode == 1, proc.stdout + proc.stderr
    # The engine filters secure values out of everything: the table and every other format.
    for text in (proc.stdout + proc.stderr, *(path.read_text() for path in reports.values())):
        assert "rds-ca-2019" not in text
    doc = json.loads(reports["json"].read_text())
    assert ("rds-ca-retired", "mandatory") in {(d["policy"], d["level"]) for d in doc["diagnostics"]}
    passfile = tmp_path / "passphrase.txt"
    passfile.write_text("password\n")
    proc = rdsca("check", program, "--policy-pack", PACK, env={"PULUMI_CONFIG_PASSPHRASE_FILE": str(passfile)})
    assert proc.returncode == 1


def test_a_wrong_passphrase_is_one_error_line(tmp_path: Path) -> None:
    program = _stack(tmp_path)
    proc = rdsca("check", program, env={"PULUMI_CONFIG_PASSPHRASE": "nope"})
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        f"rdsca: error: {program / 'Pulumi.dev.yaml'}: incorrect passphrase: set PULUMI_CONFIG_PASSPHRASE to the "
        "stack's passphrase, or PULUMI_CONFIG_PASSPHRASE_FILE to a file holding it"
    )


@pytest.mark.parametrize(
    ("salt", "provider", "why"),
    [
        (CLI_SALT, None, "no passphrase: set PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE"),
        (None, "awskms://alias/stack-key?region=us-east-1", "the stack's secrets provider is awskms"),
        (None, None, "no encryptionsalt, so its secrets belong to the backend's secrets manager (the Pulumi Cloud"),
    ],
    ids=["no passphrase", "cloud kms", "pulumi cloud"],
)
def test_a_value_that_cannot_be_decrypted_is_said_and_cannot_decide(
    tmp_path: Path, salt: str | None, provider: str | None, why: str
) -> None:
    program = _stack(tmp_path, salt=salt, provider=provider)
    proc = rdsca("check", program, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    (db,) = doc["databases"]
    assert db["status"] == "cannot decide"
    assert db["reason"].startswith("cannot decide: the CA is not known here, and the program read secure config "
                                   "testprog:ca, which was not decrypted (")
    assert why in db["reason"]
    assert any(w.startswith("config testprog:ca is secure and was not decrypted: ") for w in doc["warnings"])


@pytest.mark.parametrize(
    ("config", "code"),
    [(None, 0), ({"rds-ca-undecided": "mandatory"}, 1), ({"all": "mandatory"}, 1), ({"rds-ca-undecided": "disabled"}, 0)],
    ids=["advisory by default", "mandatory", "all mandatory", "disabled"],
)
def test_with_a_pack_a_ca_rdsca_cannot_see_is_an_undecided_finding(
    tmp_path: Path, config: dict[str, str] | None, code: int
) -> None:
    """Never a pass with a wrong reason: rds-ca-undecided, advisory unless the policy config says otherwise (the
    level configuration of rds-ca-unchecked and the Terraform check)."""
    program = _stack(tmp_path, provider="awskms://alias/stack-key")
    args: list[str | Path] = ["check", program, "--policy-pack", PACK, "--format", "json"]
    if config is not None:
        (tmp_path / "config.json").write_text(json.dumps(config))
        args += ["--policy-pack-config", tmp_path / "config.json"]
    proc = rdsca(*args)
    assert proc.returncode == code, proc.stdout + proc.stderr
    doc = json.loads(proc.stdout)
    undecided = [d for d in doc["diagnostics"] if d["policy"] == "rds-ca-undecided"]
    if config == {"rds-ca-undecided": "disabled"}:
        assert not undecided
        return
    (diagnostic,) = undecided
    assert diagnostic["level"] == ("advisory" if code == 0 else "mandatory")
    assert "secure config testprog:ca, which was not decrypted (the stack's secrets provider is awskms" in (
        diagnostic["message"])
    assert not any("rds-ca-undecided, which pack" in w for w in doc["warnings"])
    assert doc["blocked"] is (code == 1)


NESTED_PROGRAM = """
import pulumi, pulumi_aws as aws
config = pulumi.Config()
for db in config.require_object("dbs"):
    aws.rds.Instance(db["name"], engine="mysql", instance_class="db.t3.micro", ca_cert_identifier=db["ca"])
"""


def test_a_retired_ca_inside_a_secure_object_is_blocked_and_never_shown(tmp_path: Path) -> None:
    key = _key(CLI_SALT, "password")
    ca = stack_secrets.encrypt(key, "rds-ca-2019", b"\x05" * 12)
    stack = f"encryptionsalt: {CLI_SALT}\nconfig:\n  testprog:dbs:\n    - name: db\n      ca:\n        secure: {ca}\n"
    program = write_program(tmp_path / "prog", NESTED_PROGRAM, stacks={"dev": stack})
    sarif = tmp_path / "report.sarif"
    for extra in ([], ["--policy-pack", PACK, "--output", f"sarif={sarif}"]):
        proc = rdsca("check", program, "--format", "json", *extra, env={"PULUMI_CONFIG_PASSPHRASE": "password"})
        assert proc.returncode == 1, proc.stdout + proc.stderr
        assert "rds-ca-2019" not in proc.stdout + proc.stderr
        (db,) = json.loads(proc.stdout)["databases"]
        assert (db["status"], db["ca"]) == ("retired", "[secret]")
    assert "rds-ca-2019" not in sarif.read_text()


@pytest.mark.parametrize("getter", ["require_secret", "require"])
def test_a_ca_only_an_esc_environment_may_set_cannot_be_decided(tmp_path: Path, getter: str) -> None:
    """The CLI lays an imported ESC environment's pulumiConfig under the stack's config; offline the key is unknown,
    not missing (the program failed: "Missing required configuration variable"), and its CA is "cannot decide"."""
    code = PROGRAM.replace("require_secret", getter)
    program = write_program(tmp_path / "prog", code, stacks={"dev": "environment:\n  - acme/rds\n"})
    proc = rdsca("check", program, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    (db,) = doc["databases"]
    assert (db["status"], db["ca"]) == ("cannot decide", "[secret]")
    assert "read config testprog:ca, which the stack file does not set (it may come from the Pulumi ESC " in db["reason"]
    assert any("imports Pulumi ESC environment(s) acme/rds" in w for w in doc["warnings"])
