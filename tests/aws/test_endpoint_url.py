"""--endpoint-url (issue 26.10), as the AWS CLI's: every call goes to it, beside AWS_ENDPOINT_URL."""

from __future__ import annotations

import pytest

from rdsca.aws.fake import FakeAccount

from ..conftest import one_error_line
from .conftest import instance, run


def test_endpoint_url_sends_every_call_there(account: FakeAccount, monkeypatch: pytest.MonkeyPatch) -> None:
    instance("us-east-1", "billing", "mysql", "8.0.39", "rds-ca-2019")
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    before = len(account.calls)
    result = run("audit", "--regions", "us-east-1", "--endpoint-url", account.endpoint, "--format", "json")
    assert result.exit_code == 1, result.stderr
    assert [d["identifier"] for d in result.json()["databases"]] == ["billing"]
    assert len(account.calls) > before  # the fake account answered


@pytest.mark.parametrize("url", ["localhost:5000", "ftp://example.com", "http://", "https://a b"])
def test_a_bad_endpoint_url_is_a_usage_error(url: str) -> None:
    code, out, err = run("audit", "--regions", "us-east-1", "--endpoint-url", url).__dict__.values()
    assert "--endpoint-url" in one_error_line(code, out, err)


def test_endpoint_url_and_demo_do_not_mix() -> None:
    result = run("audit", "--demo", "--endpoint-url", "http://127.0.0.1:1")
    assert "cannot be used with --demo" in one_error_line(result.exit_code, result.stdout, result.stderr)


def test_a_dead_endpoint_is_an_error_not_a_finding(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDTESTING")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret-key-never-printed")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    result = run("audit", "--regions", "us-east-1", "--endpoint-url", "http://127.0.0.1:9", "--max-attempts", "1",
                 "--connect-timeout", "1")
    assert result.exit_code == 2, result.stdout + result.stderr
    assert "secret-key-never-printed" not in result.stdout + result.stderr
