"""``rdsca report`` end to end on what the other commands really write: the demo account's audit, checks of the
examples (Pulumi and Terraform) and a configuration that declares a live database; exit codes, bad input, the
page's escaping, and secrets that never reach it."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from ..conftest import REPO, invoke, one_error_line, rdsca, write_program


def test_report_joins_audit_and_checks(outputs: dict[str, Path], tmp_path: Path) -> None:
    page = tmp_path / "campaign.html"
    code, out, err = invoke("report", *outputs.values(), "--html", page, "--format", "json")
    assert code == 1, err  # databases still need action
    doc = json.loads(out)
    rows = {r["key"]: r for r in doc["databases"]}
    reports = rows["123456789012/eu-west-1/reports-mariadb"]
    # The live database (retired CA now) and the configuration that declares it, on one row.
    assert reports["live"] and reports["state"] == "retired"
    # As the check wrote the file's path: relative to the folder it ran in.
    main_tf = os.path.relpath(outputs["terraform"].parent / "infra" / "main.tf", REPO)
    assert reports["declared"] == [f"aws_db_instance.reports ({main_tf}:6): declares rds-ca-2019"]
    assert reports["fix"][0] == ("aws rds modify-db-instance --db-instance-identifier reports-mariadb "
                                 "--ca-certificate-identifier rds-ca-rsa2048-g1 --apply-immediately --region eu-west-1")
    assert any(f.startswith("rdsca check ") and f.endswith("--fix   # aws_db_instance.reports") for f in reports["fix"])
    # Every database of the demo account is a row, and so is every database the legacy stack declares.
    audit = json.loads(outputs["audit"].read_text())
    live = {f"{d['account']}/{d['region']}/{d['identifier']}" for d in audit["databases"]}
    assert live <= set(rows)
    pulumi = json.loads(outputs["pulumi"].read_text())
    declared = [r for r in doc["databases"] if any("(stack dev)" in d for d in r["declared"])]
    assert len(declared) == len(pulumi["databases"])
    assert doc["summary"]["databases"] == len(rows)
    assert sum(doc["summary"]["by_state"].values()) == len(rows)
    html = page.read_text()
    # Every database is a row of the page's table, with its state as text.
    assert len(re.findall(r'<tr data-state="', html)) == len(rows)
    assert 'data-state="retired"' in html and ">reports-mariadb<" in html
    assert doc["page"] == str(page)


def test_report_table_summary_and_exit_0_when_nothing_needs_action(tmp_path: Path) -> None:
    audit = {"as_of": "2026-11-27", "accounts": [], "regions": [], "results": [], "databases": [
        {"account": "1", "region": "eu-west-1", "identifier": "ok-db", "kind": "RDS instance",
         "ca": "rds-ca-rsa2048-g1", "ca_status": "ok", "serving": "ok"}]}
    (tmp_path / "a.json").write_text(json.dumps(audit))
    code, out, err = invoke("report", tmp_path / "a.json", "--html", tmp_path / "r.html")
    assert code == 0, err
    assert "ok     1          a current CA" in out.replace("  ", " ") or "ok" in out.splitlines()[2]
    assert f"report: 1 database(s) from 1 input(s) written to {tmp_path / 'r.html'}" in out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not json", "not JSON"),
        (b'{"results": []}', "not the JSON of rdsca audit, probe or check"),
        (b'{"accounts": [], "databases": "x"}', "its databases are not a list of objects"),
        (b"\x00\xff", "cannot read it"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_no_page(tmp_path: Path, content: bytes, message: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_bytes(content)
    page = tmp_path / "page.html"
    line = one_error_line(*invoke("report", bad, "--html", page))
    assert str(bad) in line and message in line
    assert not page.exists()


def test_page_and_json_cannot_both_go_to_stdout(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text(json.dumps({"accounts": [], "databases": []}))
    assert "choose one" in one_error_line(*invoke("report", tmp_path / "a.json", "--html", "-", "--format", "json"))
    code, out, _err = invoke("report", tmp_path / "a.json", "--html", "-")
    assert code == 0 and out.startswith("<!DOCTYPE html>")


def test_a_missing_input_or_folder(tmp_path: Path) -> None:
    assert "nope.json: cannot read it (No such file or directory)" in one_error_line(*invoke("report", tmp_path / "nope.json"))
    (tmp_path / "a.json").write_text(json.dumps({"accounts": [], "databases": []}))
    line = one_error_line(*invoke("report", tmp_path / "a.json", "--html", tmp_path / "no" / "r.html"))
    assert "does not exist" in line


def test_values_from_inputs_are_escaped(tmp_path: Path) -> None:
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    audit = {"accounts": [], "regions": [], "databases": [
        {"account": evil, "region": "eu-west-1", "identifier": evil, "kind": evil, "ca": "rds-ca-2019",
         "ca_status": "retired", "replacement": "rds-ca-rsa2048-g1", "findings": [evil]}]}
    (tmp_path / "a.json").write_text(json.dumps(audit))
    code, _out, err = invoke("report", tmp_path / "a.json", "--html", tmp_path / "r.html")
    assert code == 1, err
    html = (tmp_path / "r.html").read_text()
    assert evil not in html and "<img" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    # rdsca's own scripts (the one line that marks the page as scripted, and the table's) are the page's only ones,
    # and the page may load nothing.
    assert html.count("<script>") == 2 and '<script>document.documentElement.classList.add("js");</script>' in html
    assert "default-src 'none'" in html


def test_secrets_never_reach_the_page(tmp_path: Path) -> None:
    """A secret in every input: a Pulumi program's passwords and a tag, extra fields of an audit and a probe: none of
    them is in the page or the JSON summary."""
    secret = "s3cr3t-Pa55-in-every-input"
    directory = write_program(tmp_path / "prog", f"""
        import pulumi
        import pulumi_aws as aws
        aws.rds.Instance("db", engine="postgres", engine_version="16.4", instance_class="db.t4g.micro",
                         allocated_storage=20, username="app", password="{secret}", identifier="orders",
                         ca_cert_identifier="rds-ca-2019", tags={{"note": "{secret}"}})
        aws.rds.Instance("db2", engine="postgres", engine_version="16.4", instance_class="db.t4g.micro",
                         allocated_storage=20, username="app", password=pulumi.Output.secret("{secret}"),
                         identifier="billing", ca_cert_identifier="rds-ca-2019")
        """)
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    check = rdsca("check", directory, "--format", "json")
    assert check.returncode == 1, check.stderr
    # pulumi-aws marks the password secret (the check's JSON shows [secret]); the tag is plain: among the resource's
    # inputs in the check's JSON, and still not on the page.
    assert secret in check.stdout
    (inputs / "check.json").write_text(check.stdout)
    (inputs / "audit.json").write_text(json.dumps({"accounts": [{"account": "1", "token": secret}], "regions": [],
                                                   "databases": [{"account": "1", "region": "us-west-2",
                                                                  "identifier": "orders", "MasterUserPassword": secret,
                                                                  "ca": "rds-ca-2019", "ca_status": "retired",
                                                                  "notes": [secret], "pending_changes": [secret]}]}))
    (inputs / "probe.json").write_text(json.dumps({"stores": [{"name": secret}], "endpoints": [
        {"host": "orders.abcdefghijkl.us-west-2.rds.amazonaws.com", "port": 5432, "password": secret,
         "server_certificate": {"sha256": secret}, "stores": []}]}))
    code, out, err = invoke("report", *sorted(inputs.iterdir()), "--html", tmp_path / "r.html", "--format", "json")
    assert code == 1, err
    doc = json.loads(out)
    assert {r["identifier"] for r in doc["databases"]} == {"orders", "billing"}
    assert secret not in out and secret not in (tmp_path / "r.html").read_text()


def test_output_html_writes_the_page_of_one_run(outputs: dict[str, Path], tmp_path: Path) -> None:
    """``--output html=PATH`` on audit and check: the page ``rdsca report`` would write for that run alone."""
    page = tmp_path / "audit.html"
    done = rdsca("audit", "--demo", "--as-of", "2026-11-27", "--output", f"html={page}")
    assert done.returncode == 1, done.stderr
    audit = json.loads(outputs["audit"].read_text())
    html = page.read_text()
    assert len(re.findall(r'<tr data-state="', html)) == len(audit["databases"])
    for db in audit["databases"]:
        assert f'<td class="id">{db["identifier"]}</td>' in html
    tf_page = tmp_path / "tf.html"
    code, _out, err = invoke("check", outputs["terraform"].parent / "infra", "--output", f"html={tf_page}")
    assert code == 1, err
    assert '<td class="id">reports-mariadb</td>' in tf_page.read_text()
    assert 'data-state="retired"' in tf_page.read_text()
