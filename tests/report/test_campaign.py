"""``rdsca.campaign``: inputs recognised by what each command writes, joined per database, states and fixes."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from rdsca import campaign
from rdsca.campaign import ReportInputError

TODAY = dt.date(2026, 11, 27)


def audit_db(identifier: str, **extra: Any) -> dict[str, Any]:
    """One database as ``rdsca audit --format json`` writes it."""
    return {
        "account": "111122223333", "region": "eu-west-1", "kind": "RDS instance", "identifier": identifier,
        "arn": f"arn:aws:rds:eu-west-1:111122223333:db:{identifier}", "engine": "postgres",
        "engine_version": "16.4", "endpoint_address": f"{identifier}.abcdefghijkl.eu-west-1.rds.amazonaws.com",
        "endpoint_port": 5432, "ca": "rds-ca-rsa2048-g1", "ca_status": "ok", "serving": "ok",
        "served_ca": "rds-ca-rsa2048-g1", "server_certificate_valid_till": "2027-06-01T00:00:00Z",
        "pending_ca": None, "scheduled": None, "maintenance_window": "sun:03:00-sun:04:00", "restart": "no",
        "replacement": None, "findings": [], "notes": [], "clients": None, **extra,
    }


def audit(*dbs: dict[str, Any]) -> dict[str, Any]:
    return {"as_of": "2026-11-27", "accounts": [], "regions": [], "databases": list(dbs), "results": []}


def endpoint(host: str, stores: list[tuple[str, str]], **extra: Any) -> dict[str, Any]:
    """One endpoint as ``rdsca probe --format json`` writes it."""
    return {
        "endpoint": f"{host}:5432", "host": host, "port": 5432, "engine": "postgres", "database": None,
        "error": None, "server_certificate": {"issuer_cn": "Amazon RDS eu-west-1 Subordinate CA RSA2048 G1",
                                              "valid_until": "2027-06-01T00:00:00Z", "days_left": 186},
        "issuing_ca": {"family": "rds-ca-rsa2048-g1"}, "region": None, "target_ca": "rds-ca-rsa2048-g1",
        "stores": [{"store": name, "trusted": True, "rotation": rotation} for name, rotation in stores], **extra,
    }


def probe(*endpoints: dict[str, Any]) -> dict[str, Any]:
    return {"as_of": "2026-11-27", "stores": [], "endpoints": list(endpoints), "results": []}


def source(doc: dict[str, Any], name: str = "in.json") -> campaign.Source:
    return campaign.parse(doc, name)


def test_each_command_is_recognised_by_what_it_writes() -> None:
    assert source(audit()).kind == "audit"
    assert source(probe()).kind == "probe"
    assert source({"program": "/p/app", "stack": "dev", "databases": []}).kind == "check-pulumi"
    assert source({"kind": "terraform", "path": "infra", "resources": []}).kind == "check-terraform"


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ([], "not an rdsca JSON report"),
        ({"results": []}, "not the JSON of rdsca audit, probe or check"),
        ({"accounts": [], "databases": {"a": 1}}, "its databases are not a list of objects"),
        ({"endpoints": [1], "stores": []}, "its endpoints are not a list of objects"),
    ],
)
def test_an_input_of_another_shape_is_refused_naming_the_file(doc: Any, message: str) -> None:
    with pytest.raises(ReportInputError, match=message) as caught:
        campaign.parse(doc, "x.json")
    assert str(caught.value).startswith("x.json: ")


def test_files_that_are_not_json_are_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_bytes(b"\xff\xfe not json")
    with pytest.raises(ReportInputError, match="cannot read it"):
        campaign.load(bad)
    bad.write_text("{")
    with pytest.raises(ReportInputError, match="not JSON"):
        campaign.load(bad)
    with pytest.raises(ReportInputError, match="cannot read it"):
        campaign.load(tmp_path / "missing.json")
    bad.write_text("[" * 100_000)
    with pytest.raises(ReportInputError, match="nested too deeply"):
        campaign.load(bad)
    # A device never ends, a folder is no file: refused before reading.
    for path in (Path("/dev/zero"), tmp_path):
        if path.exists():
            with pytest.raises(ReportInputError, match="not a file"):
                campaign.load(path)


def test_states_follow_the_audit() -> None:
    found = campaign.join([source(audit(
        audit_db("a-ok"),
        audit_db("b-retired", ca="rds-ca-2019", ca_status="retired", replacement="rds-ca-rsa2048-g1", restart="yes",
                 findings=["CA retired: rds-ca-2019 is retired"]),
        audit_db("c-refused", engine="sqlserver-se", ca="rds-ca-ecc384-g1", ca_status="refused",
                 replacement="rds-ca-rsa2048-g1"),
        audit_db("d-scheduled", ca="rds-ca-2019", ca_status="retired", pending_ca="rds-ca-rsa2048-g1",
                 scheduled="scheduled for the maintenance window sun:03:00-sun:04:00 UTC"),
        audit_db("e-restart", serving="restart-pending"),
    ))], TODAY)
    states = {r.identifier: r.state for r in found.rows}
    assert states == {"a-ok": "ok", "b-retired": "retired", "c-refused": "refused", "d-scheduled": "scheduled",
                      "e-restart": "restart pending"}
    # Worst first: the table opens on what needs action.
    assert [r.identifier for r in found.rows] == ["c-refused", "b-retired", "e-restart", "d-scheduled", "a-ok"]
    assert found.needs_action == 4
    retired = next(r for r in found.rows if r.identifier == "b-retired")
    # AWS's rotation guide: a retired CA is changed now, restart and all (catalog.apply_decision).
    assert retired.fix == ["aws rds modify-db-instance --db-instance-identifier b-retired --ca-certificate-identifier "
                           "rds-ca-rsa2048-g1 --apply-immediately --region eu-west-1"]
    assert retired.apply_mode == "immediately"
    restart = next(r for r in found.rows if r.identifier == "e-restart")
    assert restart.fix == ["aws rds reboot-db-instance --db-instance-identifier e-restart --region eu-west-1"]
    scheduled = next(r for r in found.rows if r.identifier == "d-scheduled")
    assert (scheduled.ca, scheduled.target, scheduled.fix) == ("rds-ca-2019", "rds-ca-rsa2048-g1", [])
    assert found.by_state()["retired"] == 1
    assert found.by_place() == [{"account": "111122223333", "region": "eu-west-1", "total": 5, "refused": 1,
                                 "retired": 1, "restart pending": 1, "scheduled": 1, "undecided": 0, "ok": 1,
                                 "not applicable": 0}]


def test_a_probe_joins_the_audited_database_by_endpoint_or_host_name() -> None:
    host = "orders.abcdefghijkl.eu-west-1.rds.amazonaws.com"
    found = campaign.join([
        source(probe(endpoint(host, [("app.pem", "will-break"), ("bundle.pem", "ready")]),
                     endpoint("db.internal.example", [("app.pem", "ready")]),
                     endpoint("billing.abcdefghijkl.us-east-1.rds.amazonaws.com", [("app.pem", "ready")])), "p.json"),
        source(audit(audit_db("orders")), "a.json"),
    ], TODAY)
    rows = {r.identifier: r for r in found.rows}
    assert set(rows) == {"orders", "db.internal.example:5432", "billing"}
    orders = rows["orders"]
    assert (orders.live, orders.stores_break, orders.stores_ready, orders.clients) == (
        True, ["app.pem"], ["bundle.pem"], "will break")
    assert orders.served == "rds-ca-rsa2048-g1 (until 2027-06-01)"
    assert orders.seen_in == ["a.json", "p.json"]
    # Not in an audit: the identifier and region an RDS host name carries, else the endpoint itself.
    assert (rows["billing"].region, rows["billing"].live) == ("us-east-1", False)
    # A database whose clients will break needs action even on a current CA.
    assert orders.state == "ok" and found.needs_action == 1
    assert found.clients() == {"will break": 1, "ready": 2, "unknown": 0}
    # What an endpoint no audit names serves decides: rds-ca-2019 is retired, never a pass.
    found = campaign.join([source(probe(
        endpoint("old.abcdefghijkl.eu-west-1.rds.amazonaws.com", [], issuing_ca={"family": "rds-ca-2019"}),
        endpoint("proxy.example", [], issuing_ca={"issuer": "Amazon RSA 2048 M02"}),
        endpoint("gone.example", [("app.pem", "ready")],
                 server_certificate={"valid_until": "2024-08-22T00:00:00Z", "days_left": -10})))], TODAY)
    states = {r.identifier: r.state for r in found.rows}
    assert states == {"old": "retired", "proxy.example:5432": "undecided", "gone.example:5432": "retired"}


def test_a_check_joins_the_live_database_its_identifier_names() -> None:
    pulumi = {
        "program": "/src/app", "stack": "prod",
        "databases": [
            {"urn": "urn:pulumi:prod::app::aws:rds/instance:Instance::orders", "name": "orders",
             "identifier": "orders", "kind": "RDS instance", "region": "eu-west-1", "ca": "rds-ca-2019",
             "status": "retired", "replacement": "rds-ca-rsa2048-g1", "engine": "postgres",
             "engine_version": "16.4"},
            {"urn": "urn:pulumi:prod::app::aws:rds/instance:Instance::cache", "name": "cache", "identifier": None,
             "kind": "RDS instance", "region": "eu-west-1", "ca": "rds-ca-2019", "status": "retired",
             "replacement": "rds-ca-rsa2048-g1"},
        ],
        "results": [{"resource": "urn:pulumi:prod::app::aws:rds/instance:Instance::orders", "suppressed": None,
                     "location": {"file": "/src/app/__main__.py", "line": 12}, "message": "policy\nrow: retired"}],
    }
    found = campaign.join([source(audit(audit_db("orders")), "a.json"), source(pulumi, "c.json")], TODAY)
    rows = {r.key: r for r in found.rows}
    live = rows["111122223333/eu-west-1/orders"]
    # The live database is on a current CA; the code would set a retired one back at the next deployment.
    assert live.ca == "rds-ca-rsa2048-g1"
    assert live.declared == ["orders in app (stack prod) (__main__.py:12): declares rds-ca-2019"]
    assert "orders in app (stack prod) still names rds-ca-2019 (retired): the next deployment fails or sets it back" in live.findings
    assert live.state == "retired"  # the code would deploy a retired CA
    assert live.fix == ["set the CA of orders to rds-ca-rsa2048-g1 in __main__.py:12 (rdsca check --policy-pack policies --remediate shows the change)"]
    assert "row: retired" in live.findings
    # An autonamed resource cannot be joined: a row of its own, from the code.
    code = rows["code/c.json/cache"]
    assert (code.live, code.state, code.target) == (False, "retired", "rds-ca-rsa2048-g1")
    assert code.fix == ["set the CA of cache to rds-ca-rsa2048-g1 in app (stack prod) (rdsca check --policy-pack policies --remediate shows the change)"]


def test_a_ca_the_code_leaves_to_the_account_default_is_undecided_not_ok() -> None:
    """No CA in the code: the account's default for new launches decides, which rdsca cannot see offline."""
    pulumi = {"program": "/src/app", "stack": "dev", "databases": [
        {"urn": "urn:pulumi:dev::app::aws:rds/instance:Instance::db", "name": "db", "identifier": None,
         "kind": "RDS instance", "ca": None, "status": "unset"}]}
    (row,) = campaign.join([source(pulumi)], TODAY).rows
    assert row.state == "undecided"


def test_an_identifier_in_two_regions_is_not_guessed() -> None:
    tf = {"kind": "terraform", "path": "infra", "resources": [
        {"address": "aws_db_instance.orders", "type": "aws_db_instance", "values": {"identifier": "orders",
                                                                                      "ca_cert_identifier": "rds-ca-2019"},
         "ca_status": "retired", "replacement": "rds-ca-rsa2048-g1", "source": {"file": "main.tf", "line": 3}}]}
    found = campaign.join([source(audit(audit_db("orders"), audit_db("orders", region="us-east-1"))),
                           source(tf, "tf.json")], TODAY)
    assert len(found.rows) == 3
    code = next(r for r in found.rows if not r.live)
    assert code.declared == ["aws_db_instance.orders (main.tf:3)"]
    assert found.warnings == ["orders names a live database in 2 places (111122223333 eu-west-1, 111122223333 "
                              "us-east-1): not joined; give the region where it is declared"]


def test_only_named_fields_reach_the_campaign() -> None:
    secret = "hunter2-very-secret"
    doc = audit(audit_db("orders", master_password=secret, tags={"password": secret}, engine={"x": secret}))
    found = campaign.join([source(doc)], TODAY)
    assert secret not in json.dumps(found.to_json())
