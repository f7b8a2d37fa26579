"""Against stock moto, which lacks DescribeCertificates, DescribeDBEngineVersions and pending maintenance: the
commands still work, with warnings, from the built-in catalog (the "missing API" case)."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto.server import ThreadedMotoServer

from .conftest import PASSWORD, run


@pytest.fixture
def stock_moto(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    boto3.client("rds", region_name="us-east-1", endpoint_url=endpoint,
                 aws_access_key_id="a", aws_secret_access_key="b").close()
    import urllib.request

    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")).read()
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDTESTING")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret-key-never-printed")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    yield endpoint
    server.stop()


def test_audit_and_rotate_on_stock_moto(stock_moto: str, tmp_path) -> None:
    client = boto3.client("rds", region_name="us-east-1")
    client.create_db_instance(DBInstanceIdentifier="old", Engine="mysql", EngineVersion="8.0.39",
                              DBInstanceClass="db.t3.micro", AllocatedStorage=20, MasterUsername="admin",
                              MasterUserPassword=PASSWORD, CACertificateIdentifier="rds-ca-2019")
    audit = run("audit", "--regions", "us-east-1", "--format", "json")
    assert audit.exit_code == 1  # the finding decides; the missing APIs are warnings
    (db,) = audit.json()["databases"]
    assert (db["identifier"], db["ca_status"]) == ("old", "retired")
    warnings = audit.json()["regions"][0]["warnings"]
    assert any("DescribeCertificates not available" in w and "built-in catalog" in w for w in warnings)
    rotate = run("rotate", "--regions", "us-east-1", "--apply", "--yes", "--apply-immediately",
                 "--journal", str(tmp_path / "j.jsonl"))
    assert rotate.exit_code == 0, rotate.stderr
    assert client.describe_db_instances()["DBInstances"][0]["CACertificateIdentifier"] == "rds-ca-rsa2048-g1"
    assert run("audit", "--regions", "us-east-1", "--format", "json").exit_code == 0
