"""``--fix`` and ``--diff`` on Terraform files: golden before/after files and diffs (comments, odd spacing, heredocs,
for_each, a variable default, a module argument, one-line and unset blocks), idempotence, the "fix by hand" cases,
target and fallback CAs, and the safety rules (installed modules untouched, a file changed since read not written).

Set RDSCA_UPDATE_GOLDEN=1 to rewrite the expected files, then review the diff before committing it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from rdsca.terraform.check import check
from rdsca.terraform.fix import FixOptions, fix_report
from rdsca.terraform.model import ConfigError
from tests.terraform.conftest import run, write_tf

GOLDEN = Path(__file__).resolve().parent.parent / "fixtures" / "terraform" / "fix"


def files(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


@pytest.fixture
def fleet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    work = tmp_path / "fleet"
    shutil.copytree(GOLDEN / "fleet" / "before", work)
    monkeypatch.chdir(work)
    return work


def golden(name: str, actual: dict[str, bytes] | str) -> None:
    path = GOLDEN / "fleet" / name
    if os.environ.get("RDSCA_UPDATE_GOLDEN"):
        if isinstance(actual, str):
            path.write_text(actual)
        else:
            for rel, data in actual.items():
                (path / rel).parent.mkdir(parents=True, exist_ok=True)
                (path / rel).write_bytes(data)
    expected = path.read_text() if isinstance(actual, str) else files(path)
    assert actual == expected


def test_diff_writes_nothing_and_matches_the_golden_diff(fleet: Path) -> None:
    before = files(fleet)
    result = run("check", ".", "--diff")
    assert result.exit_code == 1  # something would change
    golden("expected.diff", result.stdout)
    assert files(fleet) == before


def test_fix_matches_the_golden_files_then_passes_and_is_idempotent(fleet: Path) -> None:
    result = run("check", ".", "--fix", "--format", "json")
    assert result.exit_code == 0, result.output  # the re-check after the fix passes
    golden("after", files(fleet))
    second = run("check", ".", "--diff")
    assert (second.exit_code, second.stdout) == (0, "")
    assert run("check", ".", "--fix").exit_code == 0
    golden("after", files(fleet))


def test_fix_by_hand_cases_name_the_place_and_leave_files_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "by-hand"
    shutil.copytree(GOLDEN / "by-hand" / "before", work)
    monkeypatch.chdir(work)
    before = files(work)
    result = run("check", ".", "--fix")
    assert result.exit_code == 1
    assert files(work) == before
    assert [line for line in result.stdout.splitlines() if "fix by hand" in line] == [
        "    - aws_db_instance.from_tfvars: fix by hand: ca_cert_identifier: set in terraform.tfvars:1; set it to \"rds-ca-rsa2048-g1\"",
        "    - aws_db_instance.from_for_each[\"a\"]: fix by hand: ca_cert_identifier: the value is computed by the expression at main.tf:15; set it to \"rds-ca-rsa2048-g1\"",
        "    - aws_db_instance.from_function: fix by hand: ca_cert_identifier: the value is computed by the expression at main.tf:20; set it to \"rds-ca-rsa2048-g1\"",
        "    - module.vendor.aws_db_instance.vendored: fix by hand: it is declared in an installed module (.terraform/modules/vendor/main.tf:1), which rdsca never edits: set the CA through the module's inputs or upstream",
    ]


def test_target_fallback_and_no_apply_immediately(tmp_path: Path) -> None:
    write_tf(
        tmp_path,
        {
            "main.tf": """
            resource "aws_db_instance" "pg" {
              engine             = "postgres"
              ca_cert_identifier = "rds-ca-2019"
            }
            resource "aws_db_instance" "mssql" {
              engine             = "sqlserver-se"
              ca_cert_identifier = "rds-ca-2019"
            }
            """
        },
    )
    result = run(
        "check",
        tmp_path,
        "--fix",
        "--ca",
        "rds-ca-ecc384-g1",
        "--fallback-ca",
        "rds-ca-rsa4096-g1",
        "--no-apply-immediately",
    )
    assert result.exit_code == 0, result.output
    text = (tmp_path / "main.tf").read_text()
    assert 'engine             = "postgres"\n  ca_cert_identifier = "rds-ca-ecc384-g1"' in text
    assert 'engine             = "sqlserver-se"\n  ca_cert_identifier = "rds-ca-rsa4096-g1"' in text
    assert "apply_immediately" not in text
    result = run("check", tmp_path, "--diff", "--ca", "rds-ca-2019")
    assert result.exit_code == 2 and "cannot use 'rds-ca-2019' as the target CA" in result.stderr
    assert run("check", tmp_path, "--ca", "rds-ca-ecc384-g1").exit_code == 2  # --ca needs --fix or --diff


def test_json_configuration_is_fixed_in_place(tmp_path: Path) -> None:
    (tmp_path / "main.tf.json").write_text(
        '{\n  "resource": {\n    "aws_db_instance": {\n      "a": {"engine": "mysql", "ca_cert_identifier": "rds-ca-2019"},\n      "b": {}\n    }\n  }\n}\n'
    )
    result = run("check", tmp_path, "--fix")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "main.tf.json").read_text() == (
        '{\n  "resource": {\n    "aws_db_instance": {\n'
        '      "a": {"engine": "mysql", "ca_cert_identifier": "rds-ca-rsa2048-g1", "apply_immediately": true},\n'
        # b names no CA: its current one is not known here, so its change waits for the maintenance window.
        '      "b": {"ca_cert_identifier": "rds-ca-rsa2048-g1"}\n    }\n  }\n}\n'
    )


def test_a_file_changed_since_it_was_read_is_not_overwritten(tmp_path: Path) -> None:
    write_tf(
        tmp_path,
        {
            "main.tf": 'resource "aws_db_instance" "a" {\n  ca_cert_identifier = "rds-ca-2019"\n}\n',
            "other.tf": 'resource "aws_db_instance" "b" {\n  ca_cert_identifier = "rds-ca-2015"\n}\n',
        },
    )
    report = check(tmp_path, "terraform", [], None, {})
    (tmp_path / "main.tf").write_text("# edited meanwhile\n")
    with pytest.raises(ConfigError, match="main.tf changed since rdsca read it; nothing was written"):
        fix_report(report, FixOptions(), write=True, assignments=[])
    assert (tmp_path / "main.tf").read_text() == "# edited meanwhile\n"
    assert "rds-ca-2015" in (tmp_path / "other.tf").read_text()  # no file written when one is refused


def test_fix_writes_through_a_symbolic_link_and_keeps_the_mode(tmp_path: Path) -> None:
    real = tmp_path / "shared" / "db.tf"
    real.parent.mkdir()
    real.write_text('resource "aws_db_instance" "a" {\n  ca_cert_identifier = "rds-ca-2019"\n}\n')
    real.chmod(0o640)
    work = tmp_path / "work"
    work.mkdir()
    (work / "db.tf").symlink_to(real)
    result = run("check", work, "--fix")
    assert result.exit_code == 0, result.output
    assert (work / "db.tf").is_symlink() and 'ca_cert_identifier = "rds-ca-rsa2048-g1"' in real.read_text()
    assert real.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in real.parent.iterdir()) == ["db.tf"]  # no temporary file left


def test_a_file_that_cannot_be_written_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_tf(tmp_path, {"main.tf": 'resource "aws_db_instance" "a" {\n  ca_cert_identifier = "rds-ca-2019"\n}\n'})

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("rdsca.files.write_file", refuse)
    result = run("check", tmp_path, "--fix")
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f"rdsca: error: {tmp_path / 'main.tf'}: cannot write it: Permission denied; nothing was written"
    ]
    assert "rds-ca-2019" in (tmp_path / "main.tf").read_text()


def test_fix_and_diff_together_write_nothing(tmp_path: Path) -> None:
    """`--fix --diff` rewrote the files (exit 0, no diff printed) while the README says --diff writes nothing:
    --diff wins, always."""
    main = tmp_path / "main.tf"
    original = 'resource "aws_db_instance" "a" {\n  engine             = "mysql"\n  ca_cert_identifier = "rds-ca-2019"\n}\n'
    main.write_text(original)
    result = run("check", tmp_path, "--fix", "--diff")
    assert main.read_text() == original
    assert result.exit_code == 1
    assert '-  ca_cert_identifier = "rds-ca-2019"' in result.stdout


def test_a_comment_on_a_fixed_line_is_kept_and_pointed_out(tmp_path: Path) -> None:
    """`ca_cert_identifier = "rds-ca-2019" # expired 2024-08-22` stays stale after --fix: the comment is the user's
    and is kept, but the fix report says which fixed line carries one."""
    main = tmp_path / "main.tf"
    main.write_text(
        'resource "aws_db_instance" "a" {\n  engine             = "mysql"\n'
        '  ca_cert_identifier = "rds-ca-2019" # expired 2024-08-22\n}\n'
    )
    result = run("check", tmp_path, "--fix")
    assert '"rds-ca-rsa2048-g1" # expired 2024-08-22' in main.read_text()
    assert "the line keeps its comment '# expired 2024-08-22', which may describe the old CA" in result.stdout


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (
            'resource "aws_db_instance" "a" { ca_cert_identifier = "rds-ca-2019" }\n',
            'resource "aws_db_instance" "a" {\n  ca_cert_identifier = "rds-ca-rsa2048-g1"\n'
            # A retired CA is changed now (issue 25.1), and the restart that may cause is said (25.2).
            "  apply_immediately  = true # may restart the database: engine not known here\n}\n",
        ),
        (
            'resource "aws_db_instance" "b" {\n  engine = "mysql"\n  ca_cert_identifier = "rds-ca-2019" }\n',
            'resource "aws_db_instance" "b" {\n  engine = "mysql"\n  ca_cert_identifier = "rds-ca-rsa2048-g1"\n'
            "  apply_immediately  = true # may restart the database: mysql, version not known here\n}\n",
        ),
    ],
    ids=["one-line block", "brace on the last line"],
)
def test_fix_inserts_inside_the_block_in_every_layout(tmp_path: Path, before: str, after: str) -> None:
    """A one-line block got invalid HCL (and the original was gone); a block whose last line ends in `}` got
    apply_immediately after the brace, which the re-check passed and Terraform rejects."""
    main = tmp_path / "main.tf"
    main.write_text(before)
    was_clean = _fmt_clean(main)
    result = run("check", tmp_path, "--fix")
    assert main.read_text() == after
    assert result.exit_code == 0, result.stdout
    if was_clean:  # a terraform fmt-clean file stays clean
        assert _fmt_clean(main)


def _fmt_clean(path: Path) -> bool:
    """``terraform fmt -check`` (False when Terraform is not installed: nothing to compare against)."""
    if shutil.which("terraform") is None:
        return False
    fmt = subprocess.run(["terraform", "fmt", "-check", "-no-color", str(path)], capture_output=True, check=False)
    return fmt.returncode == 0


def test_an_edit_that_would_not_land_in_its_block_keeps_the_original(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every edited file is parsed again and each edit checked against the block it meant before anything is
    written: a wrong edit (simulated here) leaves the file as it was and the fix is reported as by hand."""
    from rdsca.terraform import fix as fix_module

    main = tmp_path / "main.tf"
    original = 'resource "aws_db_instance" "a" {\n  engine = "mysql"\n  ca_cert_identifier = "rds-ca-2019"\n}\n'
    main.write_text(original)
    real_after = fix_module._after

    def misplaced(block, anchor_name, name, value):  # type: ignore[no-untyped-def]
        edits = real_after(block, anchor_name, name, value)
        end = len(block.file.data)
        return [fix_module.Edit(block.file, end, end, f"{name} = {value}\n", "")] if edits else edits

    monkeypatch.setattr(fix_module, "_after", misplaced)
    result = run("check", tmp_path, "--fix")
    assert main.read_text() == original
    assert "would not land inside aws_db_instance.a's block" in result.stdout


def test_fix_keeps_line_endings_mode_and_owner(tmp_path: Path) -> None:
    """On a CRLF file the added line was LF; run as root on another user's file, --fix made root its owner."""
    main = tmp_path / "main.tf"
    main.write_bytes(
        b'resource "aws_db_instance" "a" {\r\n  engine             = "mysql"\r\n'
        b'  ca_cert_identifier = "rds-ca-2019"\r\n}\r\n'
    )
    main.chmod(0o640)
    other = 4242 if os.geteuid() == 0 else os.geteuid()
    if os.geteuid() == 0:
        os.chown(main, other, other)
    assert run("check", tmp_path, "--fix").exit_code == 0
    data = main.read_bytes()
    assert b"apply_immediately  = true # may restart the database: mysql, version not known here\r\n" in data
    assert data.count(b"\n") == data.count(b"\r\n")
    info = main.stat()
    assert (info.st_mode & 0o777, info.st_uid, info.st_gid) == (0o640, other, other if os.geteuid() == 0 else info.st_gid)


def test_a_refused_ca_without_a_fallback_names_the_refused_ca(tmp_path: Path) -> None:
    """It said "no current CA is known to work for sqlserver-se", which is not true: it refuses the CA asked for."""
    (tmp_path / "main.tf").write_text(
        'resource "aws_db_instance" "a" {\n  engine             = "sqlserver-se"\n  ca_cert_identifier = "rds-ca-2019"\n}\n'
    )
    result = run("check", tmp_path, "--diff", "--ca", "rds-ca-ecc384-g1")
    assert "fix by hand: sqlserver-se refuses rds-ca-ecc384-g1: give --fallback-ca" in result.stderr


def test_fix_follows_the_guide_on_when_to_apply(tmp_path: Path) -> None:
    """Issue 25.1-25.2, AWS's rotation guide: "By default, this operation is scheduled to run during your next
    maintenance window" and "If you are experiencing connectivity issues after certificate expiry, use the apply
    immediately option". A retired CA is changed now; a change between current CAs on an engine that restarts
    waits; one that rotates without a restart is applied now; every restart is named."""
    write_tf(tmp_path, {"main.tf": """
        resource "aws_db_instance" "retired" {
          engine             = "sqlserver-se"
          engine_version     = "15.00.4236.7.v1"
          ca_cert_identifier = "rds-ca-2019"
        }
        resource "aws_db_instance" "refused" {
          engine             = "sqlserver-se"
          engine_version     = "15.00.4236.7.v1"
          ca_cert_identifier = "rds-ca-ecc384-g1"
        }
        resource "aws_db_instance" "no_restart" {
          engine             = "mariadb"
          engine_version     = "10.6.16"
          ca_cert_identifier = "rds-ca-2019"
        }
    """})
    result = run("check", tmp_path, "--fix")
    assert result.exit_code == 0, result.stdout
    text = (tmp_path / "main.tf").read_text()
    blocks = {b.split('"')[3]: b for b in text.split("resource ")[1:]}
    assert "apply_immediately  = true # restarts the database: sqlserver-se 15.00.4236.7.v1" in blocks["retired"]
    assert "apply_immediately" not in blocks["refused"]
    assert "apply_immediately  = true\n" in blocks["no_restart"]
    out = result.stdout
    assert "aws_db_instance.refused: a change between current CAs and it restarts to rotate: waits for the " \
        "maintenance window" in out
    assert "aws_db_instance.retired: restarts the database when applied (sqlserver-se 15.00.4236.7.v1); applying " \
        "now also applies every other pending modification of it" in out


def test_fix_restart_policy_overrides_the_rule(tmp_path: Path) -> None:
    files = {"main.tf": 'resource "aws_db_instance" "a" {\n  engine = "sqlserver-se"\n  engine_version = "15.00.4236.7.v1"'
             '\n  ca_cert_identifier = "rds-ca-2019"\n}\n'}
    write_tf(tmp_path / "avoid", files)
    assert run("check", tmp_path / "avoid", "--fix", "--restart", "avoid").exit_code == 0
    assert "apply_immediately" not in (tmp_path / "avoid" / "main.tf").read_text()
    assert run("check", tmp_path / "avoid", "--restart", "avoid").exit_code == 2  # needs --fix or --diff
    assert run("check", tmp_path / "avoid", "--fix", "--restart", "allow", "--no-apply-immediately").exit_code == 2


def test_a_module_with_several_callers_is_fixed_through_each_caller(tmp_path: Path) -> None:
    """Issue 25.7: --fix added apply_immediately (and wrote CAs) inside a local module two callers use, changing
    both. A CA that comes from a caller's module argument is fixed there, in the caller; anything inside the shared
    module is "fix by hand", naming the callers."""
    write_tf(tmp_path, {
        "main.tf": """
            module "a" {
              source = "./modules/db"
              ca     = "rds-ca-2019"
            }
            module "b" {
              source = "./modules/db"
              ca     = "rds-ca-rsa4096-g1"
            }
            module "fixed_inside" {
              source = "./modules/fixed"
            }
            module "fixed_inside_too" {
              source = "./modules/fixed"
            }
        """,
        "modules/db/main.tf": """
            variable "ca" {}
            resource "aws_db_instance" "this" {
              engine             = "mariadb"
              engine_version     = "10.6.16"
              ca_cert_identifier = var.ca
            }
        """,
        "modules/fixed/main.tf": """
            resource "aws_db_instance" "this" {
              engine             = "mysql"
              ca_cert_identifier = "rds-ca-2019"
            }
        """,
    })
    module_before = (tmp_path / "modules" / "db" / "main.tf").read_text()
    fixed_before = (tmp_path / "modules" / "fixed" / "main.tf").read_text()
    result = run("check", tmp_path, "--fix")
    assert result.exit_code == 1, result.stdout  # the shared literal is left to the user
    main = (tmp_path / "main.tf").read_text()
    assert 'ca     = "rds-ca-rsa2048-g1"' in main and 'ca     = "rds-ca-rsa4096-g1"' in main
    assert (tmp_path / "modules" / "db" / "main.tf").read_text() == module_before  # no apply_immediately inside
    assert (tmp_path / "modules" / "fixed" / "main.tf").read_text() == fixed_before
    out = result.stdout
    assert ("module.a.aws_db_instance.this: fix by hand: apply_immediately = true is not added: the module is used "
            "by module.a, module.b, and an edit inside it changes every one of them") in out
    assert ("module.fixed_inside.aws_db_instance.this: fix by hand: ca_cert_identifier: the module is used by "
            "module.fixed_inside, module.fixed_inside_too") in out


@pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not installed")
@pytest.mark.parametrize("fixture", sorted(p.name for p in GOLDEN.iterdir() if (p / "before").is_dir()))
def test_every_file_fix_writes_from_a_fmt_clean_file_stays_fmt_clean(tmp_path: Path, fixture: str) -> None:
    """Issue 23.16: each fixture made `terraform fmt`-clean first, then fixed; every file --fix wrote passes
    `terraform fmt -check` (the comments it adds included)."""
    work = tmp_path / fixture
    shutil.copytree(GOLDEN / fixture / "before", work)
    subprocess.run(["terraform", "fmt", "-recursive", str(work)], capture_output=True, check=False)
    before = files(work)
    run("check", work, "--fix")
    changed = [rel for rel, data in files(work).items() if before.get(rel) != data and rel.endswith(".tf")]
    assert changed or fixture == "by-hand", "the fixture gave --fix nothing to write"
    for rel in changed:
        fmt = subprocess.run(["terraform", "fmt", "-check", "-no-color", str(work / rel)], capture_output=True,
                             text=True, check=False)
        assert fmt.returncode == 0, f"{rel} is not fmt-clean after --fix:\n{(work / rel).read_text()}"
