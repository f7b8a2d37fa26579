"""Read what accounts have, region by region: databases, CAs, engine versions, pending maintenance.

Only describe calls; nothing here changes an account. Every (account, region) is scanned by one worker of a bounded
pool; a failing API costs detail and becomes a warning, except listing the databases, whose failure makes the region
an error (exit 2), and reaching the account at all (a role that cannot be assumed), which makes the account an error.
Calls grow with pages (100 records each), not with databases: one certificate listing per region, one engine version
call per distinct engine and version, one maintenance listing per region.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from rdsca import catalog
from rdsca.aws.pool import Pool
from rdsca.aws.session import UNAVAILABLE, Aws, AwsError, IdentityError, error_code, error_message
from rdsca.resources import AWS_DB_CLUSTER, AWS_DB_INSTANCE, AWS_DB_PROXY, Kind, database_view, known_text

PAGE = 100
#: Both names a CA maintenance action goes by: the API model says ca-certificate-rotation, the user guide
#: server-certificate-rotation (rds-ca-facts, "Pending maintenance").
CA_ACTIONS = frozenset({"ca-certificate-rotation", "server-certificate-rotation"})
#: Instance states in which a change already requested is being applied.
CHANGING = frozenset({"modifying", "rebooting", "maintenance", "upgrading", "configuring-enhanced-monitoring"})


@dataclass
class Database:
    region: str
    kind: Kind
    identifier: str
    arn: str
    engine: str | None
    engine_version: str | None
    ca: str | None
    #: The server certificate's expiry (``CertificateDetails.ValidTill``).
    server_cert_valid_till: dt.datetime | None = None
    #: The CA of the certificate the database presents (``CertificateDetails.CAIdentifier``; instances only: for a
    #: DB cluster it is the CA itself).
    served_ca: str | None = None
    #: A CA change waiting for the maintenance window (``PendingModifiedValues.CACertificateIdentifier``; for a DB
    #: cluster ``PendingModifiedValues.CertificateDetails.CAIdentifier``).
    pending_ca: str | None = None
    maintenance: list[dict[str, Any]] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    cluster: str | None = None
    #: Why nothing needs doing (RDS Proxy, Aurora Serverless v1, Neptune, RDS Custom), or None.
    not_applicable: str | None = None
    account: str = ""
    #: ``PreferredMaintenanceWindow`` (``ddd:hh24:mi-ddd:hh24:mi``, UTC).
    maintenance_window: str | None = None
    #: ``DBInstanceStatus`` / ``Status``.
    status: str | None = None
    #: An Aurora instance of a cluster with Babelfish turned on (a CA change needs a reboot to take effect).
    babelfish: bool = False
    #: Where clients connect (``Endpoint.Address``/``Port`` of an instance; ``Endpoint``/``Port`` of a cluster or
    #: proxy); None while AWS has not assigned one (a database being created).
    endpoint_address: str | None = None
    endpoint_port: int | None = None
    #: The names (never the values: one may be a master password) of the other modifications waiting in
    #: ``PendingModifiedValues``: applying a CA change now applies them too (AWS's rotation guide).
    pending_changes: tuple[str, ...] = ()


def pending_names(pending: Any, ca_member: str) -> tuple[str, ...]:
    """``PendingModifiedValues``' member names other than the CA's."""
    if not isinstance(pending, dict):
        return ()
    return tuple(sorted(k for k, v in pending.items() if k != ca_member and v not in (None, "", [], {})))


@dataclass
class EngineVersion:
    supported_cas: tuple[str, ...] | None
    rotates_without_restart: bool | None


@dataclass
class RegionScan:
    region: str
    databases: list[Database] = field(default_factory=list)
    #: CA id -> ``ValidTill`` from DescribeCertificates; None when the call was refused (the catalog stands in).
    certificates: dict[str, dt.datetime] | None = None
    default_ca: str | None = None
    #: The account's override of the default (``CustomerOverride``), if any.
    override: str | None = None
    engine_versions: dict[tuple[str, str], EngineVersion] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    #: Set when the region's databases could not be listed at all.
    error: str | None = None
    account: str = ""
    #: Aurora PostgreSQL cluster id -> its cluster parameter group (to find Babelfish).
    aurora_parameter_groups: dict[str, str] = field(default_factory=dict)

    @property
    def where(self) -> str:
        return f"{self.account} {self.region}" if self.account else self.region


def _pages(client: Any, operation: str, key: str, **kwargs: Any) -> Iterable[dict[str, Any]]:
    paginator = client.get_paginator(operation)
    for page in paginator.paginate(**kwargs, PaginationConfig={"PageSize": PAGE}):
        yield from page.get(key, [])


def _tags(raw: dict[str, Any]) -> dict[str, str]:
    return {t["Key"]: t.get("Value", "") for t in raw.get("TagList") or []}


def _record(region: str, view: Any, raw: dict[str, Any], identifier: str, account: str, **fields: Any) -> Database:
    """The one record of a database with a CA (an instance or a Multi-AZ DB cluster): what both API shapes share,
    and ``fields`` for what they name differently."""
    return Database(
        region=region,
        kind=view.kind,
        identifier=identifier,
        engine=view.engine,
        engine_version=view.engine_version,
        ca=known_text(view.ca),
        server_cert_valid_till=(raw.get("CertificateDetails") or {}).get("ValidTill"),
        tags=_tags(raw),
        not_applicable=view.not_applicable,
        account=account,
        maintenance_window=raw.get("PreferredMaintenanceWindow"),
        **fields,
    )


def _instance(region: str, raw: dict[str, Any], account: str = "") -> Database:
    identifier = raw["DBInstanceIdentifier"]
    view = database_view(AWS_DB_INSTANCE, raw, identifier, region=region)
    assert view is not None
    endpoint = raw.get("Endpoint") or {}
    # Only the CA's value is read from PendingModifiedValues (it can also hold a pending master password): of the
    # others, their names.
    return _record(
        region,
        view,
        raw,
        identifier,
        account,
        arn=raw.get("DBInstanceArn") or identifier,
        served_ca=(raw.get("CertificateDetails") or {}).get("CAIdentifier"),
        pending_ca=(raw.get("PendingModifiedValues") or {}).get("CACertificateIdentifier"),
        pending_changes=pending_names(raw.get("PendingModifiedValues"), "CACertificateIdentifier"),
        cluster=known_text(view.cluster),
        status=raw.get("DBInstanceStatus"),
        endpoint_address=endpoint.get("Address"),
        endpoint_port=endpoint.get("Port"),
    )


def _cluster(region: str, raw: dict[str, Any], account: str = "") -> Database | None:
    """Multi-AZ DB clusters carry a CA; Aurora clusters do not (their instances do) and are skipped, except
    Aurora Serverless v1, listed as not applicable. A DBCluster has no ``CACertificateIdentifier`` member: the view
    reads ``CertificateDetails.CAIdentifier``, and a pending change is ``PendingModifiedValues.CertificateDetails``
    (botocore's DBCluster and ClusterPendingModifiedValues shapes)."""
    identifier = raw["DBClusterIdentifier"]
    view = database_view(AWS_DB_CLUSTER, raw, identifier, region=region)
    if view is None or view.kind is Kind.AURORA_CLUSTER:
        return None
    pending = (raw.get("PendingModifiedValues") or {}).get("CertificateDetails") or {}
    return _record(
        region,
        view,
        raw,
        identifier,
        account,
        arn=raw.get("DBClusterArn") or identifier,
        pending_ca=pending.get("CAIdentifier"),
        pending_changes=pending_names(raw.get("PendingModifiedValues"), "CertificateDetails"),
        status=raw.get("Status"),
        endpoint_address=raw.get("Endpoint"),
        endpoint_port=raw.get("Port"),
    )


def _proxy(region: str, raw: dict[str, Any], account: str = "") -> Database:
    view = database_view(AWS_DB_PROXY, raw, raw["DBProxyName"], region=region)
    assert view is not None
    return Database(
        region,
        view.kind,
        raw["DBProxyName"],
        raw.get("DBProxyArn") or raw["DBProxyName"],
        view.engine,
        None,
        None,
        not_applicable=view.not_applicable,
        account=account,
        endpoint_address=raw.get("Endpoint"),
    )


# -- the steps of one region's scan ------------------------------------------------------------------------------------


def _optional(result: RegionScan, what: str, step: Callable[[], None], instead: str = "") -> None:
    """Run a step whose failure costs detail only: it becomes a warning."""
    try:
        step()
    except Exception as exc:  # a failing optional API costs detail only
        note = "not available" if error_code(exc) in UNAVAILABLE else "failed"
        result.warnings.append(f"{result.where}: {what} {note} ({error_message(exc)}){instead}")


def list_clusters(rds: Any, result: RegionScan) -> None:
    for raw in _pages(rds, "describe_db_clusters", "DBClusters"):
        if raw.get("Engine") == catalog.BABELFISH_ENGINE and raw.get("DBClusterParameterGroup"):
            result.aurora_parameter_groups[raw["DBClusterIdentifier"]] = raw["DBClusterParameterGroup"]
        cluster = _cluster(result.region, raw, result.account)
        if cluster is not None:
            result.databases.append(cluster)


def judge_orphan_members(result: RegionScan, instances: list[Database]) -> None:
    """A Multi-AZ DB cluster's members carry the cluster's CA: the cluster is judged, its members are not. Where the
    clusters could not be listed, the members are judged themselves rather than not at all."""
    listed = {d.identifier for d in result.databases if d.kind is Kind.MULTI_AZ_CLUSTER}
    for db in instances:
        if db.kind is Kind.MULTI_AZ_MEMBER and db.cluster not in listed:
            db.not_applicable = None


def list_proxies(rds: Any, result: RegionScan) -> None:
    result.databases.extend(
        _proxy(result.region, raw, result.account) for raw in _pages(rds, "describe_db_proxies", "DBProxies")
    )


def list_certificates(rds: Any, result: RegionScan) -> None:
    certs: dict[str, dt.datetime] = {}
    paginator = rds.get_paginator("describe_certificates")
    for page in paginator.paginate(PaginationConfig={"PageSize": PAGE}):
        result.default_ca = page.get("DefaultCertificateForNewLaunches") or result.default_ca
        for cert in page.get("Certificates", []):
            certs[cert["CertificateIdentifier"]] = cert.get("ValidTill")
            if cert.get("CustomerOverride"):
                result.override = cert["CertificateIdentifier"]
    result.certificates = certs


def list_maintenance(rds: Any, result: RegionScan) -> None:
    by_arn = {d.arn: d for d in result.databases}
    for item in _pages(rds, "describe_pending_maintenance_actions", "PendingMaintenanceActions"):
        db = by_arn.get(item.get("ResourceIdentifier", ""))
        if db is None:
            continue
        for action in item.get("PendingMaintenanceActionDetails", []):
            if action.get("Action") in CA_ACTIONS:
                db.maintenance.append(
                    {
                        "action": action["Action"],
                        "opt_in_status": action.get("OptInStatus"),
                        "auto_applied_after": action.get("AutoAppliedAfterDate"),
                        "current_apply_date": action.get("CurrentApplyDate"),
                        "description": action.get("Description"),
                    }
                )


def list_engine_versions(rds: Any, result: RegionScan) -> None:
    """One DescribeDBEngineVersions per distinct engine and version; a refusal falls back to the catalog."""
    wanted = sorted(
        {(d.engine, d.engine_version) for d in result.databases
         if d.engine and d.engine_version and not d.not_applicable}
    )
    for engine, version in wanted:
        try:
            found = rds.describe_db_engine_versions(Engine=engine, EngineVersion=version).get("DBEngineVersions", [])
        except Exception as exc:
            result.warnings.append(
                f"{result.where}: engine versions not available ({error_message(exc)}); restart and CA support "
                "come from the built-in catalog"
            )
            return
        if found:
            raw = found[0]
            supported = raw.get("SupportedCACertificateIdentifiers")
            result.engine_versions[(engine, version)] = EngineVersion(
                tuple(supported) if supported is not None else None,
                raw.get("SupportsCertificateRotationWithoutRestart"),
            )


def find_babelfish(rds: Any, result: RegionScan) -> None:
    """Mark the instances of Aurora PostgreSQL clusters whose parameter group turns Babelfish on. Only parameters
    the user changed are read (``Source='user'``); default groups cannot turn it on and cost no call."""
    groups = {g for g in result.aurora_parameter_groups.values() if not g.startswith("default.")}
    on = set()
    for group in sorted(groups):
        for parameter in _pages(
            rds, "describe_db_cluster_parameters", "Parameters", DBClusterParameterGroupName=group, Source="user"
        ):
            name, value = parameter.get("ParameterName"), parameter.get("ParameterValue")
            if name == catalog.BABELFISH_PARAMETER and value == "on":
                on.add(group)
    clusters = {c for c, g in result.aurora_parameter_groups.items() if g in on}
    for db in result.databases:
        if db.kind is Kind.AURORA_INSTANCE and db.cluster in clusters:
            db.babelfish = True


def scan_region(aws: Aws, region: str, account: str = "") -> RegionScan:
    """Everything the audit needs from one region. Never raises: failures are the scan's warnings or error."""
    result = RegionScan(region, account=account)
    try:
        rds = aws.client("rds", region)
        instances = [_instance(region, raw, account) for raw in _pages(rds, "describe_db_instances", "DBInstances")]
    except Exception as exc:
        result.error = f"{result.where}: cannot list DB instances ({error_message(exc)})"
        return result
    result.databases.extend(instances)
    _optional(result, "DB clusters", lambda: list_clusters(rds, result))
    judge_orphan_members(result, instances)
    _optional(result, "RDS proxies", lambda: list_proxies(rds, result))
    _optional(result, "DescribeCertificates", lambda: list_certificates(rds, result),
              "; CA validity comes from the built-in catalog")
    _optional(result, "pending maintenance actions", lambda: list_maintenance(rds, result))
    list_engine_versions(rds, result)
    if result.aurora_parameter_groups:
        _optional(result, "Babelfish settings", lambda: find_babelfish(rds, result),
                  "; Aurora PostgreSQL instances are taken as not running Babelfish")
    return result


def scan_certificates(aws: Aws, region: str, account: str = "") -> RegionScan:
    """Only what the default CA needs (DescribeCertificates: the default for new launches and any override), without
    listing a single database: ``rdsca default-ca show``. Never raises."""
    result = RegionScan(region, account=account)
    try:
        list_certificates(aws.client("rds", region), result)
    except Exception as exc:
        result.error = f"{result.where}: cannot describe certificates ({error_message(exc)})"
    return result


#: How one (account, region) is read: everything the audit needs, or only the certificates.
RegionScanner = Callable[[Aws, str, str], RegionScan]


def enabled_regions(aws: Aws) -> tuple[list[str], str | None]:
    """Every region enabled for the account (EC2 DescribeRegions without AllRegions lists exactly those), and a
    warning when that list could not be read (every region botocore knows for RDS stands in)."""
    region = aws.default_region() or "us-east-1"
    try:
        regions = aws.client("ec2", region).describe_regions()["Regions"]
        return sorted(r["RegionName"] for r in regions if r.get("OptInStatus") != "not-opted-in"), None
    except AwsError:
        raise
    except Exception as exc:
        if error_code(exc) == "NoCredentials":
            raise AwsError("no AWS credentials found (profile, environment or instance role)") from None
        warning = f"enabled regions not available ({error_message(exc)}); every RDS region is scanned"
        return sorted(aws.session().get_available_regions("rds")), warning


# -- many accounts ----------------------------------------------------------------------------------------------------


@dataclass
class Target:
    """One account to scan, with the credentials to scan it (None until known, or when they could not be made)."""

    account: str
    aws: Aws
    name: str | None = None
    #: The credentials are assumed (another account): checked with STS before the scan.
    assumed: bool = False


@dataclass
class AccountScan:
    account: str
    name: str | None = None
    regions: list[RegionScan] = field(default_factory=list)
    #: Set when the account could not be reached at all (role missing, access denied, no regions).
    error: str | None = None
    warnings: list[str] = field(default_factory=list)


@dataclass
class Progress:
    """Counts for the progress line on stderr."""

    accounts: int
    accounts_done: int = 0
    regions: int = 0
    regions_done: int = 0
    databases: int = 0

    def line(self, findings: int) -> str:
        return (
            f"scanned {self.accounts_done}/{self.accounts} account(s), {self.regions_done}/{self.regions} region(s): "
            f"{self.databases} database(s), {findings} with findings so far"
        )


#: Called once an account's regions are known, before they are scanned (``rotate --apply`` takes its locks there);
#: raising stops the whole scan.
BeforeRegions = Callable[[str, list[str]], None]


def _account_regions(target: Target, regions: list[str] | None, scanned: AccountScan) -> list[str]:
    if target.assumed:
        target.aws.identity()  # AssumeRole happens here: a missing role or a refusal is this account's error
    if regions:
        return regions
    found, warning = enabled_regions(target.aws)
    if warning:
        scanned.warnings.append(f"{target.account}: {warning}")
    return found


def scan(
    targets: list[Target],
    regions: list[str] | None,
    workers: int = 8,
    progress: Callable[[Progress, RegionScan | None], None] | None = None,
    before_regions: BeforeRegions | None = None,
    region_scan: RegionScanner = scan_region,
) -> list[AccountScan]:
    """Scan every account's regions (``regions``, else each account's enabled ones) with at most ``workers`` calls
    in flight; results by account id, regions in the order given (enabled regions sorted)."""
    scans = {t.account: AccountScan(t.account, t.name) for t in targets}
    order: dict[str, list[str]] = {}
    pool: Pool[tuple[str, str | None]] = Pool(workers)
    state = Progress(len(targets))
    for target in targets:
        pool.submit((target.account, None), functools.partial(_account_regions, target, regions, scans[target.account]))
    by_account = {t.account: t for t in targets}
    for done in pool.completed():
        account, region = done.key
        scanned: RegionScan | None = None
        if region is None:
            _regions_listed(done, scans[account], by_account[account], pool, order, state, before_regions, region_scan)
        else:
            scanned = done.value
            scans[account].regions.append(scanned)
            state.regions_done += 1
            state.databases += len(scanned.databases)
            if len(scans[account].regions) == len(order[account]):
                state.accounts_done += 1
        if progress:
            progress(state, scanned)
    for account, listed in order.items():
        scans[account].regions.sort(key=lambda s: listed.index(s.region))
    return [scans[a] for a in sorted(scans)]


def _regions_listed(
    done: Any, scanned: AccountScan, target: Target, pool: Pool[tuple[str, str | None]],
    order: dict[str, list[str]], state: Progress, before_regions: BeforeRegions | None,
    region_scan: RegionScanner = scan_region,
) -> None:
    """An account's regions are known (or it could not be reached): lock them if asked, then scan each."""
    error = done.error
    if error is not None:
        if isinstance(error, IdentityError) and target.assumed:
            detail = error.detail  # the role could not be assumed: this account's error
        elif not isinstance(error, Exception) or isinstance(error, AwsError):
            raise error  # no credentials at all, a bad endpoint, an interrupt: nothing can go on
        else:
            detail = error_message(error)
        scanned.error = f"{target.account}: cannot reach the account ({detail})"
        state.accounts_done += 1
        return
    regions: list[str] = done.value
    if before_regions is not None:
        before_regions(target.account, regions)
    order[target.account] = regions
    state.regions += len(regions)
    if not regions:
        state.accounts_done += 1
    for region in regions:
        pool.submit((target.account, region), functools.partial(region_scan, target.aws, region, target.account))
