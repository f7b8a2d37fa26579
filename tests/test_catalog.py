"""The CA catalog agrees with the real RDS bundle, and evaluate() judges CAs by the facts, against a pinned today."""

from __future__ import annotations

import ast
import datetime as dt
import re
from pathlib import Path

import pytest
from cryptography import x509

from rdsca import catalog
from rdsca.catalog import ECC384_G1, RSA2048_G1, RSA4096_G1, Restart, Status, evaluate

from .conftest import FIXTURES

TODAY = dt.date(2026, 11, 27)
G1_ROOT = re.compile(
    r"Amazon RDS (?P<region>[a-z]{2}(?:-gov)?-[a-z]+-\d) Root CA (?P<family>RSA2048|RSA4096|ECC384) G1"
)
FAMILY_IDS = {"RSA2048": RSA2048_G1, "RSA4096": RSA4096_G1, "ECC384": ECC384_G1}


def _bundle() -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates((FIXTURES / "rds-global-bundle-2024-06.pem").read_bytes())


def _cn(cert: x509.Certificate) -> str:
    return str(cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value)


def test_bundle_fixture_is_the_real_one() -> None:
    certs = _bundle()
    assert len(certs) == 121
    g1 = [c for c in certs if G1_ROOT.fullmatch(_cn(c))]
    assert len(g1) == 29 * 3


def test_every_g1_root_in_the_bundle_matches_the_catalog_per_region() -> None:
    seen: dict[str, set[str]] = {ca: set() for ca in FAMILY_IDS.values()}
    for cert in _bundle():
        match = G1_ROOT.fullmatch(_cn(cert))
        if not match:
            continue
        ca = catalog.CATALOG[FAMILY_IDS[match["family"]]]
        region = match["region"]
        assert ca.valid_until_by_region[region] == cert.not_valid_after_utc, (ca.id, region)
        assert cert.subject == cert.issuer  # roots only
        seen[ca.id].add(region)
    for ca_id, regions in seen.items():
        assert regions == set(catalog.CATALOG[ca_id].valid_until_by_region), ca_id


def test_2019_dates_match_the_bundle() -> None:
    by_cn = {_cn(c): c for c in _bundle()}
    assert catalog.CATALOG["rds-ca-2019"].valid_until == by_cn["Amazon RDS Root 2019 CA"].not_valid_after_utc
    for region in ("af-south-1", "eu-south-1", "me-south-1"):
        root = by_cn[f"Amazon RDS {region} Root CA"]
        assert catalog.CATALOG[f"rds-ca-2019-{region}"].valid_until == root.not_valid_after_utc


def test_family_validity_is_the_earliest_region() -> None:
    ca = catalog.CATALOG[RSA2048_G1]
    assert ca.valid_until == min(ca.valid_until_by_region.values())
    assert ca.valid_until_in("ca-west-1") == dt.datetime(2063, 9, 13, 21, 21, 33, tzinfo=dt.timezone.utc)
    assert ca.valid_until_in("xx-nowhere-9") == ca.valid_until


@pytest.mark.parametrize("ca_id", [RSA2048_G1, RSA4096_G1, ECC384_G1])
def test_current_cas_are_acceptable(ca_id: str) -> None:
    verdict = evaluate(ca_id, "mysql", "8.0.39", "us-east-1", TODAY)
    assert (verdict.status, verdict.acceptable, verdict.replacement) == (Status.OK, True, None)
    assert verdict.days_left is not None and verdict.days_left > 365 * 30


@pytest.mark.parametrize(
    "ca_id",
    # rds-ca-2017: GovCloud's previous CA (it had no rds-ca-2019), expired on 2022-05-18 (issue 25.6: it was "unknown").
    ["rds-ca-2019", "rds-ca-2015", "rds-ca-2019-me-south-1", "rds-ca-2019-af-south-1", "rds-ca-2017"],
)
def test_retired_cas(ca_id: str) -> None:
    verdict = evaluate(ca_id, today=TODAY)
    assert verdict.status is Status.RETIRED
    assert not verdict.acceptable
    assert verdict.replacement == RSA2048_G1
    assert "retired" in verdict.reason and "CertificateNotFound" in verdict.reason


def test_unknown_id_is_a_verdict_listing_valid_ids() -> None:
    verdict = evaluate("rds-ca-rsa2048-g2", today=TODAY)
    assert verdict.status is Status.UNKNOWN and not verdict.acceptable
    assert verdict.reason == (
        "unknown CA 'rds-ca-rsa2048-g2': valid CAs are rds-ca-rsa2048-g1, rds-ca-rsa4096-g1, rds-ca-ecc384-g1"
    )
    assert verdict.replacement == RSA2048_G1


@pytest.mark.parametrize("value", [42, ["rds-ca-rsa2048-g1"], "", "   ", 1.5, {"a": 1}])
def test_malformed_values_never_raise(value: object) -> None:
    verdict = evaluate(value, today=TODAY)  # type: ignore[arg-type]
    assert verdict.status is Status.UNKNOWN and not verdict.acceptable


def test_unset_means_account_default() -> None:
    verdict = evaluate(None, today=TODAY)
    assert verdict.status is Status.UNSET and verdict.acceptable
    assert "account" in verdict.reason


def test_retired_status_does_not_depend_on_the_date() -> None:
    # rds-ca-2019 is retired: AWS refuses the id today whatever date is asked about.
    assert evaluate("rds-ca-2019", today=dt.date(2024, 1, 1)).status is Status.RETIRED


def test_expiry_is_judged_against_today_per_region() -> None:
    until = catalog.CATALOG[RSA2048_G1].valid_until_in("ca-west-1")
    assert until is not None
    day_before = until.date() - dt.timedelta(days=1)
    assert evaluate(RSA2048_G1, region="ca-west-1", today=day_before).status is Status.OK
    expired = evaluate(RSA2048_G1, region="ca-west-1", today=until.date())
    assert expired.status is Status.EXPIRED and expired.replacement == RSA4096_G1
    # us-east-1's RSA2048 root ends earlier (2061) than ca-west-1's (2063).
    assert evaluate(RSA2048_G1, region="us-east-1", today=dt.date(2062, 1, 1)).status is Status.EXPIRED
    assert evaluate(RSA2048_G1, region="ca-west-1", today=dt.date(2062, 1, 1)).status is Status.OK


@pytest.mark.parametrize(
    ("engine", "version", "refused"),
    [
        ("sqlserver-se", "15.00.4236.7.v1", True),
        ("sqlserver-ee", None, True),
        ("docdb", "3.6.0", True),
        ("docdb", "4.0.0", False),
        ("docdb", "5.0.0", False),
        ("aurora-mysql", "5.7.mysql_aurora.2.04.9", True),
        ("aurora-mysql", "5.7.mysql_aurora.2.11.2", False),
        ("aurora-mysql", "8.0.mysql_aurora.3.05.2", False),
        ("postgres", "16.4", False),
    ],
)
def test_engine_refusals_of_ecc384(engine: str, version: str | None, refused: bool) -> None:
    verdict = evaluate(ECC384_G1, engine, version, "us-east-1", TODAY)
    assert (verdict.status is Status.REFUSED) is refused
    if refused:
        assert verdict.replacement == RSA2048_G1
        assert engine in verdict.reason
    assert evaluate(RSA4096_G1, engine, version, "us-east-1", TODAY).status is Status.OK


def test_region_restrictions_warn_and_never_refuse() -> None:
    verdict = evaluate(ECC384_G1, "postgres", "16.4", "eu-south-2", TODAY)
    assert verdict.status is Status.OK and verdict.acceptable
    assert verdict.warnings == (f"{ECC384_G1} in eu-south-2: " + catalog.REGION_RESTRICTIONS[0].note,)
    assert evaluate(RSA2048_G1, "postgres", "16.4", "eu-south-2", TODAY).warnings == ()
    assert evaluate(RSA4096_G1, "mysql", None, "cn-north-1", TODAY).warnings


def test_oracle_ecc_caveat() -> None:
    verdict = evaluate(ECC384_G1, "oracle-ee", "19.0.0.0.ru-2024-10.rur-2024-10.r1", "us-east-1", TODAY)
    assert verdict.status is Status.OK
    assert verdict.warnings and "ECDHE-ECDSA" in verdict.warnings[0]


def test_rds_custom_is_not_applicable() -> None:
    assert evaluate("rds-ca-2019", "custom-oracle-ee", None, None, TODAY).status is Status.NOT_APPLICABLE


@pytest.mark.parametrize(
    ("engine", "version", "flag", "expected"),
    [
        ("sqlserver-se", "15.00.4236.7.v1", None, Restart.YES),
        ("oracle-ee", "19", None, Restart.YES),
        ("oracle-ee", "19", True, Restart.YES),  # only the listener restarts, AWS still recommends a restart
        ("mysql", "5.7.33", None, Restart.YES),
        ("postgres", "13.4", None, Restart.NO),
        ("mariadb", "10.6.16", None, Restart.NO),
        ("mysql", "8.0.39", None, Restart.UNKNOWN),
        ("mysql", "8.0.39", True, Restart.NO),
        ("mysql", "8.0.39", False, Restart.YES),
        ("docdb", "5.0.0", None, Restart.UNKNOWN),
        (None, None, None, Restart.UNKNOWN),
    ],
)
def test_restart_on_rotation(engine: str | None, version: str | None, flag: bool | None, expected: Restart) -> None:
    assert catalog.restart_on_rotation(engine, version, flag) is expected


def test_require_target() -> None:
    assert catalog.require_target(RSA4096_G1, TODAY) == RSA4096_G1
    with pytest.raises(catalog.CatalogError, match="cannot use 'rds-ca-2019' as the target CA: rds-ca-2019 is retired"):
        catalog.require_target("rds-ca-2019", TODAY)
    with pytest.raises(catalog.CatalogError, match="unknown CA 'rds-ca-rsa2048-g2'"):
        catalog.require_target("rds-ca-rsa2048-g2", TODAY)
    with pytest.raises(catalog.CatalogError, match="must be a string"):
        catalog.require_target(7, TODAY)


def _code_strings(path: Path) -> list[str]:
    """Every string literal in a module's code (f-string parts included), docstrings excluded."""
    tree = ast.parse(path.read_text())
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    ]


def test_no_other_module_spells_a_ca_identifier() -> None:
    from .conftest import REPO

    pattern = re.compile(r"rds-ca-(?:rsa2048|rsa4096|ecc384|2019|2015)")
    offenders = []
    for folder in ("rdsca", "components", "policies"):
        for path in REPO.joinpath(folder).rglob("*.py"):
            if path.name == "catalog.py":
                continue
            if any(pattern.search(text) for text in _code_strings(path)):
                offenders.append(str(path.relative_to(REPO)))
    assert offenders == []


def test_govcloud_s_previous_ca_is_rds_ca_2017_not_a_2019_regional_id() -> None:
    """AWS documents no rds-ca-2019-us-gov-* ids; GovCloud's old CA is rds-ca-2017 (GovCloud rotation guide)."""
    from rdsca.catalog import CATALOG

    assert not [ca for ca in CATALOG if ca.startswith("rds-ca-2019-us-gov")]
    verdict = evaluate("rds-ca-2017", "postgres", "15.4", "us-gov-west-1", TODAY)
    assert verdict.status is Status.RETIRED and "2022-05-18" in verdict.reason


@pytest.mark.parametrize(
    ("region", "host"),
    [
        ("us-east-1", "https://truststore.pki.rds.amazonaws.com"),
        (None, "https://truststore.pki.rds.amazonaws.com"),
        ("us-gov-west-1", "https://truststore.pki.us-gov-west-1.rds.amazonaws.com"),
        ("us-gov-east-1", "https://truststore.pki.us-gov-west-1.rds.amazonaws.com"),
        ("cn-northwest-1", "https://rds-truststore.s3.cn-north-1.amazonaws.com.cn"),
    ],
)
def test_each_partition_s_bundles_come_from_its_own_host(region: str | None, host: str) -> None:
    from rdsca.truststore import base_url_for

    assert base_url_for(region) == host


def test_every_region_of_the_bundle_is_in_the_catalog() -> None:
    """Every region whose G1 roots are in the fixture bundle has its own validity dates in the catalog (a region
    missing would be judged by the family's earliest date). The 2024-06 bundle predates ap-southeast-5,
    ap-southeast-7 and mx-central-1: a newer bundle in tests/fixtures makes this test name them."""
    from rdsca import truststore as ts
    from rdsca.catalog import CATALOG

    regions = {
        (e.family, e.region) for e in ts.read(FIXTURES / "rds-global-bundle-2024-06.pem")
        if e.root and e.stage is None and e.family.endswith("-g1")
    }
    missing = sorted((f, r) for f, r in regions if r not in CATALOG[f].valid_until_by_region)
    assert regions and missing == []
