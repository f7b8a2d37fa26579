"""The CA catalog: the one place that spells RDS CA identifiers, with their dates, status and restrictions.

Every fact here names its source. Dates are the validity of the regional root certificates in the public
RDS global bundle (https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem, copy of mid-2024 in
``tests/fixtures``); ``tests/test_catalog.py`` checks every one of them against that bundle.

``evaluate`` answers "is this CA acceptable for this engine, version, region and date, and what should it be
instead". It never raises for a database's CA: a typo is a verdict. Only the tool's own target arguments go
through ``require_target``, which raises ``CatalogError`` (a usage error).
"""

from __future__ import annotations

import datetime as dt
import enum
import fnmatch
import functools
from collections.abc import Mapping
from dataclasses import dataclass, field

from rdsca import clock
from rdsca.errors import RdscaError
from rdsca.text import quoted

# -- CA identifiers ------------------------------------------------------------------------------------------------

RSA2048_G1 = "rds-ca-rsa2048-g1"
RSA4096_G1 = "rds-ca-rsa4096-g1"
ECC384_G1 = "rds-ca-ecc384-g1"
CA_2019 = "rds-ca-2019"
CA_2015 = "rds-ca-2015"
#: GovCloud's previous CA (GovCloud had no rds-ca-2019): "the old server certificate (rds-ca-2017)", expired on
#: May 18, 2022 (Amazon DocumentDB Developer Guide, "Updating your Amazon DocumentDB TLS certificates — GovCloud").
CA_2017 = "rds-ca-2017"
GOVCLOUD_GUIDE = "https://docs.aws.amazon.com/documentdb/latest/developerguide/ca_cert_rotation.html (GovCloud)"

#: Where each partition's CA bundles are served (``global/global-bundle.pem``, ``<region>/<region>-bundle.pem``).
#: Commercial: RDS User Guide, "Certificate bundles by AWS Region". GovCloud: the GovCloud rotation guide above
#: ("https://truststore.pki.us-gov-west-1.rds.amazonaws.com/us-gov-west-1/us-gov-west-1-bundle.pem"). China: the
#: China Regions' RDS User Guide, docs.amazonaws.cn/en_us/AmazonRDS/latest/UserGuide/UsingWithRDS.SSL.html
#: ("https://rds-truststore.s3.cn-north-1.amazonaws.com.cn/cn-north-1/cn-north-1-bundle.pem").
TRUSTSTORE_HOSTS: Mapping[str, str] = {
    "aws": "https://truststore.pki.rds.amazonaws.com",
    "aws-us-gov": "https://truststore.pki.us-gov-west-1.rds.amazonaws.com",
    "aws-cn": "https://rds-truststore.s3.cn-north-1.amazonaws.com.cn",
}


def partition_of(region: str | None) -> str:
    """The AWS partition of a region name: ``aws-us-gov`` for us-gov-*, ``aws-cn`` for cn-*, else ``aws``."""
    if region and region.startswith("us-gov-"):
        return "aws-us-gov"
    if region and region.startswith("cn-"):
        return "aws-cn"
    return "aws"

#: AWS's default for new instances since 2024-01-25, and this tool's default target.
DEFAULT_TARGET = RSA2048_G1

#: Current CAs in order of preference when a replacement must be suggested.
CURRENT_CAS: tuple[str, ...] = (RSA2048_G1, RSA4096_G1, ECC384_G1)

#: An AWS region name (us-east-1, eu-central-2, us-gov-west-1, cn-north-1, us-isob-east-1).
REGION_PATTERN = r"[a-z]{2}(?:-[a-z]+)+-\d{1,2}"

USER_GUIDE = "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.SSL.html"
ROTATION_GUIDE = "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.SSL-certificate-rotation.html"
DOCDB_GUIDE = "https://docs.aws.amazon.com/documentdb/latest/developerguide/ca_cert_rotation.html"


def _utc(text: str) -> dt.datetime:
    """``YYYY-MM-DDTHH:MM:SSZ`` (strptime would import _strptime and read the locale: 15 ms of every start-up)."""
    if len(text) != 20 or text[10] != "T" or not text.endswith("Z"):
        raise ValueError(f"not a UTC timestamp: {text!r}")
    return dt.datetime.fromisoformat(text[:-1]).replace(tzinfo=dt.timezone.utc)


# Validity of each G1 family's root per region, read from the real bundle (CN "Amazon RDS <region> Root CA
# <family> G1"). The bundle's Beta (us-east-1) and Preview (us-east-2) roots serve AWS pre-release endpoints, not
# customer databases, and are left out.
_G1_VALID_UNTIL: dict[str, dict[str, str]] = {
    "rds-ca-rsa2048-g1": {
        "af-south-1": "2061-05-19T20:24:16Z",
        "ap-east-1": "2061-05-25T22:30:33Z",
        "ap-northeast-1": "2061-05-25T22:54:58Z",
        "ap-northeast-2": "2061-05-20T17:28:41Z",
        "ap-northeast-3": "2061-05-24T21:23:16Z",
        "ap-south-1": "2061-05-19T18:40:34Z",
        "ap-south-2": "2062-06-06T22:42:22Z",
        "ap-southeast-1": "2061-05-21T22:39:39Z",
        "ap-southeast-2": "2061-05-24T21:42:33Z",
        "ap-southeast-3": "2061-06-10T19:19:07Z",
        "ap-southeast-4": "2062-05-25T17:49:16Z",
        "ca-central-1": "2061-05-21T23:02:35Z",
        "ca-west-1": "2063-09-13T21:21:33Z",
        "eu-central-1": "2061-05-21T23:23:47Z",
        "eu-central-2": "2062-06-06T22:17:05Z",
        "eu-north-1": "2061-05-24T21:59:21Z",
        "eu-south-1": "2061-05-19T19:27:18Z",
        "eu-south-2": "2062-05-23T19:16:32Z",
        "eu-west-1": "2061-05-20T17:49:12Z",
        "eu-west-2": "2061-05-21T23:46:24Z",
        "eu-west-3": "2061-05-25T23:18:33Z",
        "il-central-1": "2062-12-02T21:14:08Z",
        "me-central-1": "2062-05-07T00:20:09Z",
        "me-south-1": "2061-05-20T18:09:16Z",
        "sa-east-1": "2061-05-19T19:06:26Z",
        "us-east-1": "2061-05-25T23:34:57Z",
        "us-east-2": "2061-05-22T00:04:44Z",
        "us-west-1": "2061-05-19T20:04:06Z",
        "us-west-2": "2061-05-24T22:59:00Z",
    },
    "rds-ca-rsa4096-g1": {
        "af-south-1": "2121-05-19T20:28:43Z",
        "ap-east-1": "2121-05-25T22:34:51Z",
        "ap-northeast-1": "2121-05-25T22:59:10Z",
        "ap-northeast-2": "2121-05-20T17:33:23Z",
        "ap-northeast-3": "2121-05-24T21:28:03Z",
        "ap-south-1": "2121-05-19T18:45:20Z",
        "ap-south-2": "2122-06-06T22:48:18Z",
        "ap-southeast-1": "2121-05-21T22:45:05Z",
        "ap-southeast-2": "2121-05-24T21:46:18Z",
        "ap-southeast-3": "2121-06-11T01:08:36Z",
        "ap-southeast-4": "2122-05-25T17:54:59Z",
        "ca-central-1": "2121-05-21T23:08:53Z",
        "ca-west-1": "2123-09-19T23:01:39Z",
        "eu-central-1": "2121-05-21T23:28:26Z",
        "eu-central-2": "2122-06-06T22:25:23Z",
        "eu-north-1": "2121-05-24T22:03:20Z",
        "eu-south-1": "2121-05-19T19:33:21Z",
        "eu-south-2": "2122-05-23T19:34:22Z",
        "eu-west-1": "2121-05-20T17:53:54Z",
        "eu-west-2": "2121-05-21T23:51:22Z",
        "eu-west-3": "2121-05-25T23:22:33Z",
        "il-central-1": "2122-12-02T21:26:08Z",
        "me-central-1": "2122-05-07T01:40:23Z",
        "me-south-1": "2121-05-20T18:15:33Z",
        "sa-east-1": "2121-05-19T19:11:20Z",
        "us-east-1": "2121-05-25T23:38:35Z",
        "us-east-2": "2121-05-22T00:11:06Z",
        "us-west-1": "2121-05-19T20:08:58Z",
        "us-west-2": "2121-05-24T23:03:20Z",
    },
    "rds-ca-ecc384-g1": {
        "af-south-1": "2121-05-19T20:35:16Z",
        "ap-east-1": "2121-05-25T22:45:11Z",
        "ap-northeast-1": "2121-05-25T23:03:16Z",
        "ap-northeast-2": "2121-05-20T17:38:26Z",
        "ap-northeast-3": "2121-05-24T21:32:17Z",
        "ap-south-1": "2121-05-19T18:50:59Z",
        "ap-south-2": "2122-06-06T22:54:42Z",
        "ap-southeast-1": "2121-05-21T22:50:01Z",
        "ap-southeast-2": "2121-05-24T21:50:15Z",
        "ap-southeast-3": "2121-06-11T01:12:43Z",
        "ap-southeast-4": "2122-05-25T17:58:33Z",
        "ca-central-1": "2121-05-21T23:13:09Z",
        "ca-west-1": "2123-09-19T23:11:43Z",
        "eu-central-1": "2121-05-21T23:33:24Z",
        "eu-central-2": "2122-06-06T22:29:17Z",
        "eu-north-1": "2121-05-24T22:06:38Z",
        "eu-south-1": "2121-05-19T19:38:11Z",
        "eu-south-2": "2122-05-23T19:41:27Z",
        "eu-west-1": "2121-05-20T17:58:07Z",
        "eu-west-2": "2121-05-21T23:55:21Z",
        "eu-west-3": "2121-05-25T23:26:12Z",
        "il-central-1": "2122-12-02T21:32:20Z",
        "me-central-1": "2122-05-07T01:44:37Z",
        "me-south-1": "2121-05-20T18:19:55Z",
        "sa-east-1": "2121-05-19T19:16:01Z",
        "us-east-1": "2121-05-25T23:41:55Z",
        "us-east-2": "2121-05-22T00:15:56Z",
        "us-west-1": "2121-05-19T20:13:24Z",
        "us-west-2": "2121-05-24T23:06:59Z",
    },
}


@dataclass(frozen=True)
class CertificateAuthority:
    """One RDS CA identifier and what is known about it."""

    id: str
    family: str
    key_algorithm: str
    signature: str
    #: True when AWS no longer accepts the id: DescribeCertificates answers CertificateNotFound and a deployment
    #: naming it fails ("Certificate not found: rds-ca-2019").
    retired: bool
    #: Validity of the CA when the region is unknown: the earliest date over the regions we know (conservative).
    valid_until: dt.datetime | None
    valid_until_by_region: Mapping[str, dt.datetime] = field(default_factory=dict)
    #: G1 CAs let RDS rotate server certificates itself at half life.
    server_cert_auto_rotation: bool = False
    #: The id is documented by AWS (False: seen only in public code).
    confirmed: bool = True
    #: For the regional 2019 ids: the one region they belong to.
    region: str | None = None
    source: str = USER_GUIDE

    def valid_until_in(self, region: str | None) -> dt.datetime | None:
        """Validity in ``region``, falling back to the conservative family-wide date."""
        if region and region in self.valid_until_by_region:
            return self.valid_until_by_region[region]
        return self.valid_until


def _g1(ca_id: str, key: str, signature: str) -> CertificateAuthority:
    by_region = {region: _utc(text) for region, text in _G1_VALID_UNTIL[ca_id].items()}
    return CertificateAuthority(
        id=ca_id,
        family="g1",
        key_algorithm=key,
        signature=signature,
        retired=False,
        valid_until=min(by_region.values()),
        valid_until_by_region=by_region,
        server_cert_auto_rotation=True,
    )


def _retired(ca_id: str, signature: str, until: str, source: str = USER_GUIDE) -> CertificateAuthority:
    """A retired RSA2048 CA (``rds-ca-2015``, ``rds-ca-2017``, ``rds-ca-2019``): its family is its year."""
    return CertificateAuthority(
        id=ca_id, family=ca_id.rsplit("-", 1)[1], key_algorithm="RSA2048", signature=signature, retired=True,
        valid_until=_utc(until), source=source,
    )


def _retired_2019_regional(region: str, until: str | None, confirmed: bool) -> CertificateAuthority:
    return CertificateAuthority(
        id=f"{CA_2019}-{region}",
        family="2019",
        key_algorithm="RSA2048",
        signature="SHA256",
        retired=True,
        valid_until=_utc(until) if until else None,
        valid_until_by_region={region: _utc(until)} if until else {},
        confirmed=confirmed,
        region=region,
        source="regional 2019 root in the RDS global bundle; the id itself is not in AWS docs",
    )


CATALOG: Mapping[str, CertificateAuthority] = {
    ca.id: ca
    for ca in (
        _g1(RSA2048_G1, "RSA2048", "SHA256 (SHA384 in GovCloud)"),
        _g1(RSA4096_G1, "RSA4096", "SHA384"),
        _g1(ECC384_G1, "EC P-384", "SHA384"),
        # Root "Amazon RDS Root 2019 CA"; its regional intermediates end at the same second.
        _retired(CA_2019, "SHA256", "2024-08-22T17:08:50Z"),
        _retired(CA_2015, "SHA1", "2020-03-05T00:00:00Z"),
        # Regional 2019 roots ("Amazon RDS <region> Root CA"), dates from the bundle; ids seen in public code only.
        _retired_2019_regional("af-south-1", "2024-10-26T18:05:58Z", confirmed=False),
        _retired_2019_regional("eu-south-1", "2024-10-28T20:20:36Z", confirmed=False),
        _retired_2019_regional("me-south-1", "2024-05-08T21:48:27Z", confirmed=False),
        _retired(CA_2017, "SHA256", "2022-05-18T00:00:00Z", GOVCLOUD_GUIDE),
    )
}


# -- Engine and region facts ---------------------------------------------------------------------------------------


class Restart(str, enum.Enum):
    """Whether changing the CA restarts the database."""

    YES = "yes"
    NO = "no"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class EngineFact:
    """What is known about one engine (``fnmatch`` pattern) and version range, without calling AWS."""

    engine: str
    #: ``fnmatch`` patterns on the engine version; empty means every version.
    versions: tuple[str, ...] = ()
    #: The value of ``SupportsCertificateRotationWithoutRestart`` where known (None: not known offline).
    rotates_without_restart: bool | None = None
    #: Whether a CA change restarts the database, where that differs from the flag (Oracle, SQL Server).
    restart: Restart | None = None
    refuses: frozenset[str] = frozenset()
    #: An advisory note shown for these CAs (accepted, with a caveat).
    caveats: Mapping[str, str] = field(default_factory=dict)
    not_applicable: str | None = None
    confirmed: bool = True
    source: str = ""

    def matches(self, engine: str, version: str | None) -> bool:
        if not fnmatch.fnmatchcase(engine, self.engine):
            return False
        if not self.versions:
            return True
        return version is not None and any(fnmatch.fnmatchcase(version, p) for p in self.versions)


ENGINE_FACTS: tuple[EngineFact, ...] = (
    EngineFact(
        engine="sqlserver-*",
        restart=Restart.YES,
        refuses=frozenset({ECC384_G1}),
        source="RDS rotation guide (a reboot is implied; Multi-AZ fails over); API error 'Version ... for DB engine "
        "sqlserver-se doesn't support certificate rds-ca-ecc384-g1' (terraform-provider-aws #39371)",
    ),
    EngineFact(
        engine="oracle-*",
        rotates_without_restart=False,
        restart=Restart.YES,
        caveats={ECC384_G1: "Oracle needs ECDHE-ECDSA cipher suites in its SSL option to serve an ECC384 certificate"},
        source="RDS rotation guide: the flag is false and only the listener restarts, but AWS recommends a restart; "
        "Oracle SSL option page",
    ),
    EngineFact(
        engine="docdb",
        versions=("3.6", "3.6.*"),
        refuses=frozenset({ECC384_G1}),
        source=DOCDB_GUIDE + " (rds-ca-ecc384-g1 only on DocumentDB 4.0 and 5.0)",
    ),
    EngineFact(
        engine="docdb",
        # Restart-free rotation depends on the patch level (3.6 >= 1.0.208662, 4.0 >= 2.0.10179, 5.0 >= 3.0.4780),
        # which only the database's getEngineVersion command reports, not the API's EngineVersion: unknown here.
        source=DOCDB_GUIDE,
    ),
    EngineFact(
        engine="custom-*",
        not_applicable="RDS Custom ignores the CA setting",
        source="https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ModifyDBInstance.html",
    ),
    EngineFact(
        engine="neptune",
        not_applicable="Neptune endpoints use certificates chained to the Amazon Root CAs; the CA setting is not used",
        source="https://docs.aws.amazon.com/neptune/latest/userguide/security-ssl.html",
    ),
    EngineFact(
        engine="aurora-mysql",
        versions=("5.6*", "5.7.12", "5.7.mysql_aurora.1.*", "5.7.mysql_aurora.2.0[0-4].*"),
        rotates_without_restart=False,
        refuses=frozenset({ECC384_G1}),
        source="recorded describe-db-engine-versions output (2024) for Aurora MySQL 5.7 / 2.04.x and older",
    ),
    EngineFact(
        engine="mysql",
        versions=("5.7.33", "5.7.34"),
        rotates_without_restart=False,
        source="AWS SDK examples' recorded describe-db-engine-versions response",
    ),
    EngineFact(
        engine="postgres",
        versions=("13.4",),
        rotates_without_restart=True,
        source=USER_GUIDE + " (example output)",
    ),
    EngineFact(
        engine="mariadb",
        versions=("10.6.16",),
        rotates_without_restart=True,
        source="recorded describe-db-engine-versions output (2024)",
    ),
)


@dataclass(frozen=True)
class RegionRestriction:
    """A documented statement that some CAs are not available in some regions."""

    regions: frozenset[str]
    cas: frozenset[str]
    note: str
    confirmed: bool = False


REGION_RESTRICTIONS: tuple[RegionRestriction, ...] = (
    RegionRestriction(
        regions=frozenset({"ap-south-1", "ap-southeast-4", "ca-west-1", "eu-central-2", "eu-south-2", "il-central-1"}),
        cas=frozenset({RSA4096_G1, ECC384_G1}),
        # Doubtful: the bundle holds RSA4096 and ECC384 roots for all six regions, so never refuse on this.
        note="the RDS SSL page says this CA is not available in this region (unconfirmed: the RDS bundle has its "
        "root for the region)",
    ),
    RegionRestriction(
        regions=frozenset({"cn-north-1", "cn-northwest-1"}),
        cas=frozenset({RSA4096_G1, ECC384_G1}),
        note="only rds-ca-rsa2048-g1 is documented for the China regions (unconfirmed)",
    ),
)


# Databases and endpoints where the CA setting does not apply, for reasons that are not the engine's
# (RDS Proxy and Aurora Serverless v1 serve ACM certificates: RDS User Guide, "Using SSL/TLS" and the RDS Proxy and
# Serverless v1 pages). Engine-level reasons (RDS Custom, Neptune) are ``EngineFact.not_applicable``.
PROXY_NOT_APPLICABLE = "RDS Proxy uses ACM certificates (Amazon Root CA); nothing to rotate"
SERVERLESS_V1_NOT_APPLICABLE = "Aurora Serverless v1 uses ACM certificates (Amazon Root CA); nothing to rotate"
AURORA_CLUSTER_NOT_APPLICABLE = "an Aurora cluster carries no CA: it is set on each of its cluster instances"
MULTI_AZ_MEMBER_NOT_APPLICABLE = "member of Multi-AZ DB cluster {cluster}: its CA is set on the cluster"
#: Engines whose clusters carry no CA of their own (Aurora): the CA lives on each cluster instance.
AURORA_ENGINE_PREFIX = "aurora"


#: Babelfish runs on Aurora PostgreSQL, turned on by this cluster parameter (Aurora User Guide, "DB cluster parameter
#: group settings for Babelfish"); after a CA change its cluster must be rebooted (rds-ca-facts, "Clusters").
BABELFISH_ENGINE = "aurora-postgresql"
BABELFISH_PARAMETER = "rds.babelfish_status"


def is_aurora(engine: str | None) -> bool:
    """Aurora engines (``aurora``, ``aurora-mysql``, ``aurora-postgresql``): the CA is per cluster instance."""
    return isinstance(engine, str) and engine.startswith(AURORA_ENGINE_PREFIX)


def not_applicable(engine: str | None, version: str | None = None) -> str | None:
    """Why the CA setting does not apply to this engine (RDS Custom, Neptune), or None."""
    return next((f.not_applicable for f in engine_facts(engine, version) if f.not_applicable), None)


def engine_facts(engine: str | None, version: str | None) -> tuple[EngineFact, ...]:
    """Every fact that applies to ``engine`` at ``version``."""
    if not isinstance(engine, str) or not engine:
        return ()
    if version is not None and not isinstance(version, str):
        version = None
    return _engine_facts(engine, version)


@functools.lru_cache(maxsize=4096)
def _engine_facts(engine: str, version: str | None) -> tuple[EngineFact, ...]:
    # Cached: a policy pack asks this for every policy on every resource, and fnmatch is the cost.
    return tuple(f for f in ENGINE_FACTS if f.matches(engine, version))


def rotation_flag(engine: str | None, version: str | None) -> bool | None:
    """The ``SupportsCertificateRotationWithoutRestart`` value known offline, or None when only AWS knows."""
    for fact in engine_facts(engine, version):
        if fact.rotates_without_restart is not None:
            return fact.rotates_without_restart
    return None


def restart_on_rotation(engine: str | None, version: str | None, flag: bool | None = None) -> Restart:
    """Whether changing the CA restarts the database.

    ``flag`` is ``SupportsCertificateRotationWithoutRestart`` from a live ``DescribeDBEngineVersions`` (or the
    ``aws.rds.get_engine_version`` data source); without it, only the catalog's facts decide.
    """
    facts = engine_facts(engine, version)
    for fact in facts:
        if fact.restart is not None:
            return fact.restart
        if fact.not_applicable:
            return Restart.NO
    if flag is None:
        flag = rotation_flag(engine, version)
    if flag is None:
        return Restart.UNKNOWN
    return Restart.NO if flag else Restart.YES


# -- When a CA change is applied: the one rule of every front end --------------------------------------------------

#: AWS's rotation guide ("Rotating your SSL/TLS certificate", ROTATION_GUIDE): a modification waits for the maintenance
#: window by default ("By default, this operation is scheduled to run during your next maintenance window"), and "If
#: you are experiencing connectivity issues after certificate expiry, use the apply immediately option". Applying
#: immediately also applies every other pending modification of the database (same guide).
RESTART_POLICIES = ("auto", "allow", "avoid")


@dataclass(frozen=True)
class ApplyDecision:
    """Whether rdsca applies a CA change now, why (one clause a report can print), and whether that restarts the
    database now (it restarts to rotate, or may: UNKNOWN counts as a restart)."""

    immediately: bool
    why: str
    restarts_now: bool


def apply_decision(current: Status | None, restart: Restart, policy: str = "auto") -> ApplyDecision:
    """The one apply-mode rule, for the component, the pack's remediation, Terraform ``--fix`` and ``rotate``.

    ``current``: the verdict on the database's current CA (None when it is not known: a new resource, a Terraform
    configuration without a plan or state). ``restart``: whether rotating restarts it. ``policy``: ``restart="auto"``
    (the guide), ``"allow"`` (apply now, restart or not) or ``"avoid"`` (never restart outside the window).
    """
    if policy not in RESTART_POLICIES:
        raise CatalogError(f"restart policy {quoted(policy)}: choose from {', '.join(RESTART_POLICIES)}")
    restarting = restart is not Restart.NO
    if policy == "allow":
        return ApplyDecision(True, "restart=allow: applied now" + (", restart and all" if restarting else ""),
                             restarting)
    if not restarting:
        return ApplyDecision(True, "it rotates without a restart: applied now", False)
    what = "it restarts to rotate" if restart is Restart.YES else "it may restart to rotate (not known here)"
    if policy == "avoid":
        return ApplyDecision(False, f"restart=avoid and {what}: waits for the maintenance window", False)
    if current in (Status.RETIRED, Status.EXPIRED, Status.UNKNOWN):
        return ApplyDecision(True, f"its current CA is {current.value}: clients that verify TLS already fail, so it "
                             f"is applied now although {what} (AWS's rotation guide)", True)
    if current is None:
        return ApplyDecision(False, f"its current CA is not known here and {what}: waits for the maintenance window",
                             False)
    return ApplyDecision(False, f"a change between current CAs and {what}: waits for the maintenance window", False)


# -- Server certificates -------------------------------------------------------------------------------------------

# The server certificate a database presents is issued by its CA and lasts 12 months where the engine version rotates
# without a restart, 36 months otherwise (RDS User Guide, "DB server certificate validities",
# https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.SSL.html). RDS rotates the former itself in the
# maintenance window at half life; for the latter it schedules a server-certificate-rotation maintenance action at
# least 6 months before the certificate expires (rotation guide, "Automatic server certificate rotation").
SERVER_CERT_MONTHS_WITHOUT_RESTART = 12
SERVER_CERT_MONTHS_WITH_RESTART = 36
#: How long before expiry RDS announces a rotation that needs a restart.
SERVER_CERT_NOTICE_DAYS = 182
#: A restart-free certificate this close to expiry was not rotated at half life as RDS does: something is wrong.
SERVER_CERT_OVERDUE_DAYS = SERVER_CERT_MONTHS_WITHOUT_RESTART * 30 // 2 - 30


# -- Evaluation ------------------------------------------------------------------------------------------------------


class Status(str, enum.Enum):
    """What ``evaluate`` says of a database's CA. The one place that says which statuses need action."""

    OK = "ok"
    UNSET = "unset"
    RETIRED = "retired"
    EXPIRED = "expired"
    UNKNOWN = "unknown"
    REFUSED = "refused"
    NOT_APPLICABLE = "not-applicable"

    def __str__(self) -> str:
        return self.value

    @property
    def invalid_ca(self) -> bool:
        """The CA itself cannot be used anywhere: retired, unknown (a typo, a malformed value) or expired."""
        return self in _INVALID_CA

    @property
    def needs_action(self) -> bool:
        """The database must move to another CA: the CA is invalid, or its engine refuses it."""
        return self in _NEEDS_ACTION


_INVALID_CA = frozenset({Status.RETIRED, Status.UNKNOWN, Status.EXPIRED})
_NEEDS_ACTION = _INVALID_CA | {Status.REFUSED}


@dataclass(frozen=True)
class Verdict:
    """The answer of ``evaluate``."""

    ca_id: str | None
    status: Status
    acceptable: bool
    reason: str
    #: The CA to use instead (None when the CA is fine or nothing applies).
    replacement: str | None = None
    valid_until: dt.datetime | None = None
    days_left: int | None = None
    #: Advisory notes: unconfirmed region restrictions, engine caveats.
    warnings: tuple[str, ...] = ()
    #: Where the fact behind the verdict comes from (kept out of ``reason``, which people read).
    source: str | None = None


class CatalogError(RdscaError, ValueError):
    """A target CA given to the tool itself (``ca_identifier``, ``--ca``) is unknown, retired or expired."""


def _replacement(
    engine: str | None, version: str | None, region: str | None, today: dt.date, avoid: str | None = None
) -> str | None:
    refused = set().union(*(f.refuses for f in engine_facts(engine, version)))
    for ca_id in CURRENT_CAS:
        if ca_id == avoid or ca_id in refused:
            continue
        until = CATALOG[ca_id].valid_until_in(region)
        if until is not None and until.date() > today:
            return ca_id
    return None


def evaluate(
    ca_id: str | None,
    engine: str | None = None,
    engine_version: str | None = None,
    region: str | None = None,
    today: dt.date | None = None,
) -> Verdict:
    """Judge a database's CA. Never raises: unknown ids, bad types and retired CAs are verdicts."""
    today = today or clock.today()
    args = (ca_id, engine, engine_version, region, today)
    if all(type(a) in _CACHEABLE for a in args):
        # Verdicts are immutable and depend only on the arguments: a policy pack judges the same few
        # combinations thousands of times.
        return _evaluate_cached(*args)
    return _evaluate(*args)


_CACHEABLE = frozenset({str, type(None), int, float, bool, dt.date})


@functools.lru_cache(maxsize=4096, typed=True)  # typed: 5 and 5.0 are different malformed values
def _evaluate_cached(
    ca_id: str | None, engine: str | None, engine_version: str | None, region: str | None, today: dt.date
) -> Verdict:
    return _evaluate(ca_id, engine, engine_version, region, today)


def _evaluate(
    ca_id: str | None, engine: str | None, engine_version: str | None, region: str | None, today: dt.date
) -> Verdict:
    reason = not_applicable(engine, engine_version)
    if reason:
        return Verdict(ca_id, Status.NOT_APPLICABLE, True, reason)
    if ca_id is None:
        return Verdict(
            None,
            Status.UNSET,
            True,
            "no CA set: the account's default CA for new launches decides "
            f"({DEFAULT_TARGET} unless the account overrides it)",
        )
    if not isinstance(ca_id, str) or not ca_id.strip() or ca_id not in CATALOG:
        return _unknown(ca_id, engine, engine_version, region, today)
    ca = CATALOG[ca_id]
    until = ca.valid_until_in(region)
    days_left = (until.date() - today).days if until else None
    if ca.retired:
        ended = f"expired on {until.date().isoformat()}" if until else "expired"
        reason = f"{ca_id} is retired ({ended}); AWS answers CertificateNotFound and deployments naming it fail"
        instead = _replacement(engine, engine_version, region, today)
        return Verdict(ca_id, Status.RETIRED, False, reason, instead, until, days_left)
    if until is not None and until.date() <= today:
        reason = f"{ca_id} expired on {until.date().isoformat()}" + (f" in {region}" if region else "")
        instead = _replacement(engine, engine_version, region, today, avoid=ca_id)
        return Verdict(ca_id, Status.EXPIRED, False, reason, instead, until, days_left)
    refusal = _refusal(ca_id, engine, engine_version)
    if refusal:
        instead = _replacement(engine, engine_version, region, today, avoid=ca_id)
        reason, source = refusal
        return Verdict(ca_id, Status.REFUSED, False, reason, instead, until, days_left, source=source)
    warnings = tuple(_warnings(ca_id, engine, engine_version, region))
    return Verdict(ca_id, Status.OK, True, f"{ca_id} is current", None, until, days_left, warnings)


def _unknown(
    ca_id: object, engine: str | None, engine_version: str | None, region: str | None, today: dt.date
) -> Verdict:
    """A malformed value (number, list, empty string) or an id the catalog does not know (a typo)."""
    instead = _replacement(engine, engine_version, region, today)
    valid = ", ".join(CURRENT_CAS)
    if not isinstance(ca_id, str) or not ca_id.strip():
        reason = f"invalid CA identifier {quoted(ca_id)}: expected one of {valid}"
        return Verdict(None, Status.UNKNOWN, False, reason, instead)
    return Verdict(ca_id, Status.UNKNOWN, False, f"unknown CA {quoted(ca_id)}: valid CAs are {valid}", instead)


def _refusal(ca_id: str, engine: str | None, engine_version: str | None) -> tuple[str, str] | None:
    """Why the engine (and version) refuses ``ca_id``, and the source of that fact; or None."""
    for fact in engine_facts(engine, engine_version):
        if ca_id in fact.refuses:
            version_text = f" {engine_version}" if engine_version else ""
            return f"{engine}{version_text} does not support {ca_id}", fact.source
    return None


def _warnings(ca_id: str, engine: str | None, engine_version: str | None, region: str | None) -> list[str]:
    """Advisory notes on an accepted CA: unconfirmed region restrictions and engine caveats."""
    warnings = [
        f"{ca_id} in {region}: {restriction.note}"
        for restriction in REGION_RESTRICTIONS
        if region in restriction.regions and ca_id in restriction.cas
    ]
    warnings += [fact.caveats[ca_id] for fact in engine_facts(engine, engine_version) if ca_id in fact.caveats]
    return warnings


def require_target(ca_id: object, today: dt.date | None = None, *, expiry: bool = True) -> str:
    """Check a target CA given to the tool itself; raise ``CatalogError`` unless it is current.

    ``expiry=False`` accepts a current CA that has expired in some region by ``today``: a caller that judges each
    database in its own region decides that per database (validity differs by region by up to two years).
    """
    if not isinstance(ca_id, str):
        raise CatalogError(f"the target CA must be a string, one of {', '.join(CURRENT_CAS)}; got {quoted(ca_id)}")
    verdict = evaluate(ca_id, today=today)
    if verdict.status is not Status.OK and not (verdict.status is Status.EXPIRED and not expiry):
        raise CatalogError(f"cannot use {quoted(ca_id)} as the target CA: {verdict.reason}")
    return ca_id


def refusing_versions(engine: str | None, ca_id: str) -> list[str]:
    """Version patterns of ``engine`` known to refuse ``ca_id`` (to warn when the version is not known)."""
    if not engine:
        return []
    return [
        pattern
        for fact in ENGINE_FACTS
        if fact.versions and ca_id in fact.refuses and fnmatch.fnmatchcase(engine, fact.engine)
        for pattern in fact.versions
    ]
