"""The pure core of ``rdsca probe``: paths, names, dates and the rotation question, on generated and real chains."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509

from rdsca import truststore as ts
from rdsca.probe import judge

from ..conftest import FIXTURES
from . import pki

#: For the real certificates (fixed dates); generated chains are judged as of the day they were made (NOW).
TODAY = dt.date(2026, 11, 27)
BUNDLE = ts.read(FIXTURES / "rds-global-bundle-2024-06.pem")
NOW_DAY = pki.NOW.date()
REAL_SUBORDINATE = x509.load_pem_x509_certificate(
    (FIXTURES / "rds-ap-northeast-2-subordinate-ca-rsa2048-g1-a5.pem").read_bytes()
)


def entries(*issued: pki.Issued) -> list[ts.Entry]:
    return [ts.classify(i.cert) for i in issued]


def codes(trust: judge.Trust) -> list[str]:
    return [code for code, _ in trust.problems]


def test_a_real_g1_intermediate_chains_to_its_regional_root_in_the_real_bundle() -> None:
    trust = judge.verify([REAL_SUBORDINATE], BUNDLE, TODAY, None)
    assert trust.trusted and trust.anchor is not None
    assert trust.anchor.cn == "Amazon RDS ap-northeast-2 Root CA RSA2048 G1"
    assert str(judge.issuing_ca([REAL_SUBORDINATE])) == "rds-ca-rsa2048-g1 ap-northeast-2"
    # The subordinate CA ends in 2032, long before its root (2061): --as-of sees it.
    assert codes(judge.verify([REAL_SUBORDINATE], BUNDLE, dt.date(2033, 1, 1), None)) == ["expired"]
    # A store with every other region's roots does not help.
    others = [e for e in BUNDLE if e.region != "ap-northeast-2"]
    assert codes(judge.verify([REAL_SUBORDINATE], others, TODAY, None)) == ["unknown-root"]


@pytest.fixture(scope="module")
def chain() -> dict[str, pki.Issued]:
    root = pki.ca("Test Root")
    inter = pki.ca("Test Intermediate", root, path_length=0)
    leaf = pki.server(["db.example.com", "*.ro.example.com", "10.0.0.5"], inter)
    return {"root": root, "inter": inter, "leaf": leaf}


def test_path_through_a_served_intermediate(chain: dict[str, pki.Issued]) -> None:
    served = [chain["leaf"].cert, chain["inter"].cert]
    trust = judge.verify(served, entries(chain["root"]), NOW_DAY, "db.example.com")
    assert (trust.trusted, trust.problems, [ts.common_name(c.subject) for c in trust.path]) == (
        True,
        [],
        ["db.example.com", "Test Intermediate"],
    )
    # Without the intermediate, a client with only the root cannot build the path.
    assert codes(judge.verify(served[:1], entries(chain["root"]), NOW_DAY, None)) == ["unknown-root"]
    # With the intermediate in the store, it can (OpenSSL uses stored intermediates to build paths).
    assert judge.verify(served[:1], entries(chain["root"], chain["inter"]), NOW_DAY, None).trusted


def test_a_store_with_only_the_intermediate(chain: dict[str, pki.Issued]) -> None:
    trust = judge.verify([chain["leaf"].cert, chain["inter"].cert], entries(chain["inter"]), NOW_DAY, None)
    assert codes(trust) == ["intermediate-only"]
    assert trust.problems[0][1].startswith(
        "the store holds the intermediate Test Intermediate but not the root above it (Test Root)"
    )


def test_a_root_the_server_sends_is_not_trusted_for_being_sent(chain: dict[str, pki.Issued]) -> None:
    served = [chain["leaf"].cert, chain["inter"].cert, chain["root"].cert]
    assert codes(judge.verify(served, entries(pki.ca("Other Root")), NOW_DAY, None)) == ["unknown-root"]
    assert judge.verify(served, entries(chain["root"]), NOW_DAY, None).trusted


def test_a_root_with_the_right_name_and_another_key(chain: dict[str, pki.Issued]) -> None:
    impostor = pki.ca("Test Root")
    assert codes(judge.verify([chain["leaf"].cert, chain["inter"].cert], entries(impostor), NOW_DAY, None)) == [
        "unknown-root"
    ]


def test_issuers_must_be_cas_within_their_path_length() -> None:
    root = pki.ca("Root")
    not_a_ca = pki.server(["leaf.example.com"], root)
    below = pki.server(["below.example.com"], pki.Issued(not_a_ca.cert, not_a_ca.key))
    trust = judge.verify([below.cert, not_a_ca.cert], entries(root), NOW_DAY, None)
    assert codes(trust) == ["invalid-ca"]
    assert trust.problems[0][1] == "leaf.example.com is not a CA (basicConstraints CA:FALSE)"
    # Path length 0 on the intermediate: no further intermediate below it.
    inter = pki.ca("Inter", root, path_length=0)
    inter2 = pki.ca("Inter 2", inter)
    leaf = pki.server(["x.example.com"], inter2)
    trust = judge.verify([leaf.cert, inter2.cert, inter.cert], entries(root), NOW_DAY, None)
    assert trust.problems == [("invalid-ca", "Inter allows 0 intermediate(s) below it")]


def test_not_yet_valid() -> None:
    root = pki.ca("Root")
    future = (pki.NOW + dt.timedelta(days=10), pki.NOW + dt.timedelta(days=400))
    leaf = pki.server(["db.example.com"], root, validity=future)
    trust = judge.verify([leaf.cert], entries(root), NOW_DAY, None)
    assert codes(trust) == ["not-yet-valid"]


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("db.example.com", True),
        ("DB.Example.COM.", True),
        ("a.ro.example.com", True),
        ("a.b.ro.example.com", False),  # a wildcard covers one label
        ("ro.example.com", False),
        ("10.0.0.5", True),
        ("10.0.0.6", False),
        ("other.example.com", False),
    ],
)
def test_name_matching(chain: dict[str, pki.Issued], name: str, ok: bool) -> None:
    assert judge.name_matches(chain["leaf"].cert, name) is ok


def test_the_common_name_counts_only_without_dns_names() -> None:
    root = pki.ca("Root")
    cn_only = pki.server([], root, cn="legacy.example.com")
    assert judge.name_matches(cn_only.cert, "legacy.example.com")
    with_san = pki.server(["new.example.com"], root, cn="legacy.example.com")
    assert not judge.name_matches(with_san.cert, "legacy.example.com")
    # An IP address is never matched against the common name.
    assert not judge.name_matches(pki.server([], root, cn="10.1.1.1").cert, "10.1.1.1")


def test_wildcards_never_cover_a_public_suffix_alone() -> None:
    root = pki.ca("Root")
    assert not judge.name_matches(pki.server(["*.com"], root).cert, "example.com")


def test_rotation_question_on_the_real_bundle() -> None:
    g1 = [e for e in BUNDLE if e.family != "rds-ca-2019"]
    rsa4096 = "rds-ca-rsa4096-g1"
    assert judge.rotation(g1, rsa4096, "eu-west-1", TODAY) == (
        "ready",
        f"the store holds the current {rsa4096} root for eu-west-1",
    )
    only_2048 = [e for e in g1 if e.family == "rds-ca-rsa2048-g1"]
    status, why = judge.rotation(only_2048, rsa4096, "eu-west-1", TODAY)
    assert (status, why.split(":")[0]) == ("will-break", f"no current {rsa4096} root for eu-west-1")
    # The eu-west-1 RSA2048 root ends on 2061-05-20: a store is only ready while its root is current.
    assert judge.rotation(only_2048, "rds-ca-rsa2048-g1", "eu-west-1", dt.date(2061, 6, 1))[0] == "will-break"
    assert judge.rotation(g1, rsa4096, None, TODAY)[0] == "unknown"


def test_hosts_regions_and_proxies() -> None:
    assert judge.region_of_host("mydb.c9akciq32.eu-west-1.rds.amazonaws.com") == "eu-west-1"
    assert judge.region_of_host("mycluster.cluster-ro-c9akciq32.us-gov-west-1.rds.amazonaws.com") == "us-gov-west-1"
    assert judge.region_of_host("db.abc.cn-north-1.rds.amazonaws.com.cn") == "cn-north-1"
    assert judge.region_of_host("docdb-1.cluster-abc.ap-south-1.docdb.amazonaws.com") == "ap-south-1"
    assert judge.region_of_host("db.internal.example.com") is None
    assert judge.is_proxy_host("app.proxy-abcdefghijkl.us-east-1.rds.amazonaws.com")
    assert not judge.is_proxy_host("proxy-db.abcdefghijkl.us-east-1.rds.amazonaws.com")
    assert not judge.is_proxy_host("app.proxy-abc.example.com")


def test_choose_target() -> None:
    rds = judge.IssuingCa("rds-ca-rsa2048-g1", "us-east-1", None)
    old = judge.IssuingCa("rds-ca-2019", "us-east-1", None)
    other = judge.IssuingCa(ts.OTHER, None, None)
    ecc, rsa4096 = "rds-ca-ecc384-g1", "rds-ca-rsa4096-g1"
    choose = judge.choose_target
    assert choose(ecc, rds) == judge.Target(ecc, "--target-ca")
    assert choose(None, rds) == judge.Target("rds-ca-rsa2048-g1", "the served chain's CA")
    assert choose(None, old).ca == "rds-ca-rsa2048-g1"  # AWS's default replaces a retired CA
    assert choose(None, other).not_applicable.startswith("the served chain is not from an RDS CA")
    assert choose(ecc, other).ca == ecc
    assert choose(None, rds, audit_ca="rds-ca-2019", audit_replacement=rsa4096).ca == rsa4096
    assert choose(None, rds, audit_ca="rds-ca-2019", audit_pending=ecc, audit_replacement=rsa4096).ca == ecc
    assert choose(None, other, audit_ca=rsa4096) == judge.Target(rsa4096, "the database's current CA")
    assert choose(ecc, rds, proxy=True).ca is None
    assert choose(ecc, rds, audit_not_applicable="Neptune ...") == judge.Target(None, "", "Neptune ...")
