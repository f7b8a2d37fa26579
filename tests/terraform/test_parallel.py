"""A module's files parsed on two cores (``rdsca.terraform.parallel``): the worker's blocks are exactly a sequential
parse's, every error is raised in file order as before, and the worker never outlives the parse. The tests that
start a worker run in a process of their own, with the size threshold lowered."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from rdsca.terraform import config, parallel
from rdsca.terraform.hcl import parse_source
from rdsca.terraform.model import Block, SourceFile

from ..conftest import REPO, rdsca
from .conftest import run

PLAIN = """\
# a comment, and labels with escapes
resource "aws_db_instance" "db\\u0041" {
  identifier         = "db-1"
  engine             = "postgres"
  allocated_storage  = 20
  ratio              = 1.5e3
  multi_az           = false
  kms_key_id         = null
  ca_cert_identifier = "rds-ca-2019" /* why */
  apply_immediately  = true

  timeouts {
    create = "40m"
    nested "a" {
      deep = ""
    }
  }
}

terraform {
  required_version = ">= 1.5"
}
"""


def shape(block: Block) -> tuple[Any, ...]:
    """Everything a block holds, positions and each literal's value and type included."""
    attributes = tuple(
        (name, a.name, type(a.expr).__name__, getattr(a.expr, "value", None), type(getattr(a.expr, "value", None)),
         getattr(a.expr, "start_byte", None), getattr(a.expr, "end_byte", None), a.span.start, a.span.end,
         a.value.start, a.value.end, a.span.file is block.span.file)
        for name, a in block.attributes.items()
    )
    return (block.type, tuple(block.labels), attributes, tuple(shape(b) for b in block.blocks), block.span.start,
            block.span.end, block.body_start, block.body_end)


def source(text: str, name: str = "main.tf") -> SourceFile:
    return SourceFile(Path(name), text.encode(), "hcl")


def test_a_file_of_literals_travels_and_comes_back_as_parsed() -> None:
    parsed = parse_source(source(PLAIN))
    rebuilt = parallel._rebuild(parallel._export(parsed), parsed.span.file)
    assert shape(rebuilt) == shape(parsed)
    assert rebuilt.blocks[0].labels == ["aws_db_instance", "dbA"] and rebuilt.blocks[0].blocks[0].blocks[0].attributes["deep"].expr.value == ""


@pytest.mark.parametrize("value", ['var.x', '"${var.env}-db"', '"a\\"b"', "[1]", "upper(\"a\")", "-1"])
def test_a_file_with_any_expression_is_left_to_the_parent(value: str) -> None:
    with pytest.raises(parallel._NotPlain):
        parallel._export(parse_source(source(PLAIN.replace('"rds-ca-2019"', value))))


def test_no_worker_for_a_small_module_one_file_or_files_of_references() -> None:
    assert parallel._worker_allowed([source("x = 1\n" * 100_000, f"{i}.tf") for i in range(2)])
    assert not parallel._worker_allowed([source("x = 1\n", f"{i}.tf") for i in range(50)])
    assert not parallel._worker_allowed([source("x = 1\n" * 300_000)])
    # hand-written configurations reference variables and locals nearly everywhere: nothing there could travel
    referencing = [source("x = 1\n" * 100_000 + f"y = {ref}\n", f"{i}.tf") for i, ref in
                   enumerate(["var.a", "local.b", '"${a}"'])]
    assert not parallel._worker_allowed(referencing)
    assert parallel._worker_allowed([*referencing[:1], *[source("x = 1\n" * 100_000, f"p{i}.tf") for i in range(2)]])


def test_the_worker_takes_about_half_the_bytes_interleaved_and_no_json() -> None:
    sources = [source("x = 1\n" * 100, f"{i}.tf") for i in range(10)] + [SourceFile(Path("a.tf.json"), b"{}", "json")]
    given = parallel._shares(sources)
    assert given[:10].count(True) == 5 and given[-1] is False
    assert given[:4] in ([True, False, True, False], [False, True, False, True])


SCRIPT = """
import json, os, sys
from pathlib import Path
from rdsca.terraform import config, parallel
from rdsca.terraform.hcl import read_source
from tests.terraform.test_parallel import shape

parallel.MIN_BYTES = 1000
directory = Path(sys.argv[1])
mode = sys.argv[2]
paths = sorted(p for p in directory.iterdir() if config.is_config_file(p))
sources = [read_source(p, "json" if p.name.endswith(".json") else "hcl") for p in paths]
if mode == "dead":  # the worker dies at once (killed, out of memory): every file is parsed here
    parallel.WORKER = [sys.executable, "-c", "import sys; sys.exit(9)"]
    mode = "compare"
if mode == "impostor":  # well-formed answers from other code (another rdsca's worker): not believed
    real = parallel._command()
    parallel.WORKER = [*real[:-1], real[-1].replace("parse_worker.main()", "from rdsca.terraform import parallel as p; p.IDENTITY = 'x'; parse_worker.main()")]
    mode = "compare"
if mode == "unstartable":  # no process can be started (a process limit, no interpreter): every file parsed here
    parallel.WORKER = [str(directory / "no-such-python")]
    mode = "compare"
if mode == "changed":  # the files are saved again once read: what was read is parsed, not the new text
    for path in paths:
        path.write_text('resource "aws_db_instance" "other" {\\n  ca_cert_identifier = "rds-ca-rsa2048-g1"\\n}\\n')
    mode = "compare"
if mode == "compare":
    both = parallel.parse_all(sources, config.parse_file)
    took = parallel.last_from_worker
    alone = [config.parse_file(s) for s in sources]
    print(json.dumps({"same": [shape(a) == shape(b) for a, b in zip(both, alone)], "from_worker": took}))
elif mode == "error":
    try:
        config.read_module(directory, True, [])
    except Exception as exc:
        print(json.dumps({"error": str(exc), "from_worker": parallel.last_from_worker}))
elif mode == "interrupt":
    def parse(source):
        if source.path.name == sys.argv[3]:
            raise KeyboardInterrupt
        return config.parse_file(source)
    try:
        parallel.parse_all(sources, parse)
    except KeyboardInterrupt:
        pass
    try:
        left = os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        left = None
    print(json.dumps({"children_left": left}))
"""


def in_own_process(directory: Path, *args: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(directory), *args], cwd=REPO, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def literal_files(directory: Path, count: int) -> None:
    for i in range(count):
        (directory / f"f{i:02d}.tf").write_text(PLAIN.replace('"db\\u0041"', f'"db{i}"'))


def test_in_a_process_of_its_own_the_worker_s_blocks_are_a_sequential_parse_s(tmp_path: Path) -> None:
    literal_files(tmp_path, 8)
    (tmp_path / "f03.tf").write_text(PLAIN.replace('"rds-ca-2019"', "var.ca"))  # the parent parses this one
    (tmp_path / "g.tf.json").write_text('{"resource": {"aws_db_instance": {"j": {"engine": "mysql"}}}}')
    (tmp_path / "override.tf").write_text('resource "aws_db_instance" "dbA" {\n  engine = "mysql"\n}\n')
    found = in_own_process(tmp_path, "compare")
    assert found["same"] == [True] * 10
    assert 0 < found["from_worker"] < 8  # the worker's share of the literal files, not the one with var.ca


@pytest.mark.parametrize("mode", ["dead", "unstartable"])
def test_a_worker_that_dies_or_cannot_start_leaves_every_file_to_the_parent(tmp_path: Path, mode: str) -> None:
    literal_files(tmp_path, 6)
    assert in_own_process(tmp_path, mode) == {"same": [True] * 6, "from_worker": 0}


def test_a_file_saved_again_since_it_was_read_is_parsed_as_read(tmp_path: Path) -> None:
    """The worker reads the files itself: what it parsed counts only if its length and CRC-32 are those of the
    bytes this process read (the report's positions point into them)."""
    literal_files(tmp_path, 6)
    assert in_own_process(tmp_path, "compare")["from_worker"] == 3
    assert in_own_process(tmp_path, "changed") == {"same": [True] * 6, "from_worker": 0}


def test_the_first_file_that_fails_in_file_order_is_the_error(tmp_path: Path) -> None:
    literal_files(tmp_path, 8)
    given = parallel._shares([source(PLAIN, f"f{i:02d}.tf") for i in range(8)])
    worker_file, parent_file = given.index(True), given.index(False)
    first, second = sorted([worker_file, parent_file])
    (tmp_path / f"f{first:02d}.tf").write_text('resource "a" "b" {\n  x = "unclosed\n}\n')
    (tmp_path / f"f{second:02d}.tf").write_text('resource "a" "b" {\n  y = \n}\n')
    found = in_own_process(tmp_path, "error")
    assert f"f{first:02d}.tf:2: syntax error" in found["error"]
    assert found["error"] in run("check", tmp_path, "--format", "json").stderr  # as one process says it


def test_an_interrupted_parse_leaves_no_worker_behind(tmp_path: Path) -> None:
    literal_files(tmp_path, 8)
    given = parallel._shares([source(PLAIN, f"f{i:02d}.tf") for i in range(8)])
    parent_file = f"f{given.index(False):02d}.tf"
    assert in_own_process(tmp_path, "interrupt", parent_file) == {"children_left": None}


def test_a_large_check_gives_the_same_report_with_and_without_the_worker(tmp_path: Path, monkeypatch) -> None:
    """End to end, as users run it: 1.1 MiB of literals checked by ``rdsca check`` in its own process (the worker
    used), against the same check in this process with the worker turned off."""
    for f in range(8):
        blocks = [
            textwrap.dedent(f"""\
                resource "aws_db_instance" "db{f}_{i}" {{
                  engine             = "{"mysql" if i % 2 else "postgres"}"
                  ca_cert_identifier = "{"rds-ca-2019" if i % 3 == 0 else "rds-ca-rsa2048-g1"}"
                  apply_immediately  = true
                }}
            """)
            for i in range(1200)
        ]
        (tmp_path / f"fleet{f}.tf").write_text("\n".join(blocks))
    assert sum(p.stat().st_size for p in tmp_path.iterdir()) >= parallel.MIN_BYTES
    separate = rdsca("check", tmp_path, "--format", "json", env={"RDSCA_AS_OF": "2026-11-27"})
    monkeypatch.setattr(parallel, "_worker_allowed", lambda sources: False)
    monkeypatch.setenv("RDSCA_AS_OF", "2026-11-27")
    monkeypatch.chdir(REPO)  # the report's file names are relative to the working directory, as the other run's
    here = run("check", tmp_path, "--format", "json")
    assert separate.returncode == here.exit_code == 1
    assert json.loads(separate.stdout) == json.loads(here.stdout)
    assert len(json.loads(here.stdout)["resources"]) == 9600


def test_read_module_reports_files_in_order_to_the_progress_line(tmp_path: Path) -> None:
    literal_files(tmp_path, 3)
    (tmp_path / "override.tf").write_text('resource "aws_db_instance" "db0" {\n  engine = "mysql"\n}\n')
    seen: list[str] = []
    config.read_module(tmp_path, True, [], lambda path: seen.append(path.name))
    assert seen == ["f00.tf", "f01.tf", "f02.tf", "override.tf"]


@pytest.mark.parametrize(
    "later",
    [
        'resource "aws_db_instance" "a" {\n  allocated_storage = ' + "9" * 5000 + "\n}\n",
        'resource "aws_db_instance" "x\\UFFFFFFFF" {\n}\n',
    ],
)
def test_a_later_file_s_failure_does_not_hide_an_earlier_syntax_error(tmp_path: Path, later: str) -> None:
    """Files are parsed before any is collected: the first file's error is the one reported, as when each was read
    in turn, whatever a later file raises (a reviewer's finding)."""
    (tmp_path / "a.tf").write_text('resource "aws_db_instance" "y" {\n  engine = "mysql"\n')
    (tmp_path / "b.tf").write_text(later)
    result = run("check", tmp_path, "--format", "json")
    assert result.exit_code == 2 and "a.tf:3: syntax error: missing '}'" in result.stderr
    (tmp_path / "a.tf").unlink()
    alone = run("check", tmp_path, "--format", "json")  # and alone, the later file is a clear error, not a crash
    assert alone.exit_code == 2 and "internal error" not in alone.stderr and "b.tf:" in alone.stderr


def test_every_file_s_failure_is_kept_in_order_whatever_it_is() -> None:
    first, second = source("a = [", "a.tf"), source("b = 1\n", "b.tf")

    def parse(given: SourceFile) -> Block:
        if given is second:
            raise ValueError("a bug reading b.tf")
        return parse_source(given)

    found = parallel.parse_all([first, second], parse)
    assert [type(f).__name__ for f in found] == ["ConfigError", "ValueError"]


SHADOWED = """
import json, sys
sys.path.insert(0, sys.argv[2])  # this rdsca; the working directory (another copy) is not on the path (-I)
from pathlib import Path
from rdsca.terraform import config, parallel
from rdsca.terraform.hcl import read_source

parallel.MIN_BYTES = 1000
paths = sorted(Path(sys.argv[1]).glob("*.tf"))
parallel.parse_all([read_source(p, "hcl") for p in paths], config.parse_file)
print(json.dumps({"from_worker": parallel.last_from_worker}))
"""


def test_the_worker_runs_this_rdsca_not_one_in_the_working_directory(tmp_path: Path) -> None:
    """Run from another rdsca checkout, ``python -m`` would import that one in the worker (a reviewer's finding: an
    older parser there reported rds-ca-2019 as another CA): the worker imports from this process's path."""
    fleet, other = tmp_path / "fleet", tmp_path / "checkout"
    fleet.mkdir()
    literal_files(fleet, 6)
    (other / "rdsca" / "terraform").mkdir(parents=True)
    (other / "rdsca" / "__init__.py").write_text("")
    (other / "rdsca" / "terraform" / "__init__.py").write_text("")
    (other / "rdsca" / "terraform" / "parse_worker.py").write_text(
        "import sys\ndef main():\n    sys.stdin.buffer.read()\n    sys.exit(0)\n"
    )
    done = subprocess.run([sys.executable, "-I", "-c", SHADOWED, str(fleet), str(REPO)], cwd=other,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout) == {"from_worker": 3}


def test_an_answer_from_other_code_is_not_believed(tmp_path: Path) -> None:
    literal_files(tmp_path, 6)
    assert in_own_process(tmp_path, "impostor") == {"same": [True] * 6, "from_worker": 0}
