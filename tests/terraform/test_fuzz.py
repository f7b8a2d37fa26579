"""Every Terraform file kind rdsca reads (.tf, .tf.json, .tfvars, .tfvars.json, plan JSON), fed arbitrary bytes and
mutated valid files: the check either works (exit 0 or 1) or stops with exit 2 and one line; never a traceback.
(A focused harness: the project-wide fuzz harness does not exist yet; register these loaders there when it does.)"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.terraform.conftest import PLANS, run

VALID = {
    "main.tf": b'variable "ca" {\n  default = "rds-ca-2019"\n}\nresource "aws_db_instance" "x" {\n  ca_cert_identifier = var.ca\n  count = 2\n}\n',
    "main.tf.json": b'{"resource": {"aws_db_instance": {"x": {"ca_cert_identifier": "${var.ca}"}}}, "variable": {"ca": {}}}',
    "terraform.tfvars": b'ca = "rds-ca-rsa2048-g1"\n',
    "terraform.tfvars.json": b'{"ca": "rds-ca-rsa2048-g1"}',
    "plan.json": (PLANS / "update-unset-in-code.json").read_bytes()[:4000],
}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(sorted(VALID)), cut=st.integers(0, 4000), insert=st.binary(max_size=12))
def test_mutated_inputs_never_crash(name: str, cut: int, insert: bytes) -> None:
    data = VALID[name]
    at = cut % (len(data) + 1)
    mutated = data[:at] + insert + data[at + len(insert) :]
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        if name == "plan.json":
            target = directory / name
            target.write_bytes(mutated)
            result = run("check", target, "--kind", "plan")
        else:
            if not name.endswith(".tf") and not name.endswith(".tf.json"):
                (directory / "main.tf").write_bytes(VALID["main.tf"])
            (directory / name).write_bytes(mutated)
            result = run("check", directory, "--kind", "terraform")
    assert result.exit_code in (0, 1, 2), result.output
    assert "Traceback" not in result.output
    if result.exit_code == 2:
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
