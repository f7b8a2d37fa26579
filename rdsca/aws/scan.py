"""Read what an account has, region by region: databases, CAs, engine versions, pending maintenance.

Only describe calls; nothing here changes the account. Each region is scanned by one worker; a failing API costs
detail and becomes a warning, except listing the databases, whose failure makes the region an error (exit 2).
Calls grow with pages (100 records each), not with databases: one certificate listing per region, one engine
version call per distinct engine and version, one maintenance listing per region.
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from rdsca.aws.session import UNAVAILABLE, Aws, error_code, error_message
from rdsca.resources import AWS_DB_CLUSTER, AWS_DB_INSTANCE, AWS_DB_PROXY, Kind, database_view, known_text

PAGE = 100
#: Both names a CA maintenance action goes by: the API model says ca-certificate-rotation, the user guide
#: server-certificate-rotation (rds-ca-facts, "Pending maintenance").
CA_ACTIONS = frozenset({"ca-certificate-rotation", "server-certificate-rotation"})


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
    #: A CA change waiting for the maintenance window (``PendingModifiedValues.CACertificateIdentifier``).
    pending_ca: str | None = None
    maintenance: list[dict[str, Any]] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    cluster: str | None = None
    #: Why nothing needs doing (RDS Proxy, Aurora Serverless v1, Neptune, RDS Custom), or None.
    not_applicable: str | None = None
    #: Where clients connect (``Endpoint.Address``/``Port`` of an instance; ``Endpoint``/``Port`` of a cluster or
    #: proxy); None while AWS has not assigned one (a database being created).
    endpoint_address: str | None = None
    endpoint_port: int | None = None


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


def _pages(client: Any, operation: str, key: str, **kwargs: Any) -> Iterable[dict[str, Any]]:
    paginator = client.get_paginator(operation)
    for page in paginator.paginate(**kwargs, PaginationConfig={"PageSize": PAGE}):
        yield from page.get(key, [])


def _instance(region: str, raw: dict[str, Any]) -> Database:
    view = database_view(AWS_DB_INSTANCE, raw, raw["DBInstanceIdentifier"], region=region)
    assert view is not None
    details = raw.get("CertificateDetails") or {}
    pending = raw.get("PendingModifiedValues") or {}
    # Only the CA is read from PendingModifiedValues: it can also hold a pending master password.
    return Database(
        region=region,
        kind=view.kind,
        identifier=raw["DBInstanceIdentifier"],
        arn=raw.get("DBInstanceArn") or raw["DBInstanceIdentifier"],
        engine=view.engine,
        engine_version=view.engine_version,
        ca=known_text(view.ca),
        server_cert_valid_till=details.get("ValidTill"),
        pending_ca=pending.get("CACertificateIdentifier"),
        tags={t["Key"]: t.get("Value", "") for t in raw.get("TagList") or []},
        cluster=known_text(view.cluster),
        not_applicable=view.not_applicable,
        endpoint_address=(raw.get("Endpoint") or {}).get("Address"),
        endpoint_port=(raw.get("Endpoint") or {}).get("Port"),
    )


def _cluster(region: str, raw: dict[str, Any]) -> Database | None:
    """Multi-AZ DB clusters carry a CA; Aurora clusters do not (their instances do) and are skipped, except
    Aurora Serverless v1, listed as not applicable."""
    view = database_view(AWS_DB_CLUSTER, raw, raw["DBClusterIdentifier"], region=region)
    if view is None or view.kind is Kind.AURORA_CLUSTER:
        return None
    details = raw.get("CertificateDetails") or {}
    pending = raw.get("PendingModifiedValues") or {}
    return Database(
        region=region,
        kind=view.kind,
        identifier=raw["DBClusterIdentifier"],
        arn=raw.get("DBClusterArn") or raw["DBClusterIdentifier"],
        engine=view.engine,
        engine_version=view.engine_version,
        # The fake (like older moto) may also put the CA at the top level; botocore's model has only the details.
        ca=known_text(view.ca) or raw.get("CACertificateIdentifier"),
        server_cert_valid_till=details.get("ValidTill"),
        pending_ca=pending.get("CACertificateIdentifier"),
        tags={t["Key"]: t.get("Value", "") for t in raw.get("TagList") or []},
        not_applicable=view.not_applicable,
        endpoint_address=raw.get("Endpoint"),
        endpoint_port=raw.get("Port"),
    )


def _proxy(region: str, raw: dict[str, Any]) -> Database:
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
        endpoint_address=raw.get("Endpoint"),
    )


def scan_region(aws: Aws, region: str) -> RegionScan:
    """Everything the audit needs from one region. Never raises: failures are the scan's warnings or error."""
    result = RegionScan(region)
    rds = aws.client("rds", region)

    def optional(what: str, call: Callable[[], None], instead: str = "") -> None:
        try:
            call()
        except Exception as exc:  # a failing optional API costs detail only
            code = error_code(exc)
            note = "not available" if code in UNAVAILABLE else "failed"
            result.warnings.append(f"{region}: {what} {note} ({error_message(exc)}){instead}")

    # The databases: without them the region cannot be judged.
    try:
        instances = [_instance(region, raw) for raw in _pages(rds, "describe_db_instances", "DBInstances")]
    except Exception as exc:
        result.error = f"{region}: cannot list DB instances ({error_message(exc)})"
        return result
    result.databases.extend(instances)

    def clusters() -> None:
        for raw in _pages(rds, "describe_db_clusters", "DBClusters"):
            cluster = _cluster(region, raw)
            if cluster is not None:
                result.databases.append(cluster)

    def proxies() -> None:
        result.databases.extend(_proxy(region, raw) for raw in _pages(rds, "describe_db_proxies", "DBProxies"))

    def certificates() -> None:
        certs: dict[str, dt.datetime] = {}
        paginator = rds.get_paginator("describe_certificates")
        for page in paginator.paginate(PaginationConfig={"PageSize": PAGE}):
            result.default_ca = page.get("DefaultCertificateForNewLaunches") or result.default_ca
            for cert in page.get("Certificates", []):
                certs[cert["CertificateIdentifier"]] = cert.get("ValidTill")
                if cert.get("CustomerOverride"):
                    result.override = cert["CertificateIdentifier"]
        result.certificates = certs

    def maintenance() -> None:
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

    def engine_versions() -> None:
        wanted = sorted(
            {
                (d.engine, d.engine_version)
                for d in result.databases
                if d.engine and d.engine_version and not d.not_applicable
            }  # type: ignore[misc]
        )
        for engine, version in wanted:
            try:
                found = rds.describe_db_engine_versions(Engine=engine, EngineVersion=version).get(
                    "DBEngineVersions", []
                )
            except Exception as exc:
                result.warnings.append(
                    f"{region}: engine versions not available ({error_message(exc)}); restart and CA support "
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

    optional("DB clusters", clusters)
    # A Multi-AZ DB cluster's members carry the cluster's CA: the cluster is judged, its members are not. Where the
    # clusters could not be listed, the members are judged themselves rather than not at all.
    listed = {d.identifier for d in result.databases if d.kind is Kind.MULTI_AZ_CLUSTER}
    for db in instances:
        if db.kind is Kind.MULTI_AZ_MEMBER and db.cluster not in listed:
            db.not_applicable = None
    optional("RDS proxies", proxies)
    optional("DescribeCertificates", certificates, "; CA validity comes from the built-in catalog")
    optional("pending maintenance actions", maintenance)
    engine_versions()
    return result


def enabled_regions(aws: Aws) -> list[str]:
    """Every region enabled for the account (EC2 DescribeRegions without AllRegions lists exactly those)."""
    region = aws.default_region() or "us-east-1"
    try:
        regions = aws.client("ec2", region).describe_regions()["Regions"]
        return sorted(r["RegionName"] for r in regions if r.get("OptInStatus") != "not-opted-in")
    except Exception as exc:
        from rdsca.aws.session import AwsError

        code = error_code(exc)
        if code == "NoCredentials":
            raise AwsError("no AWS credentials found (profile, environment or instance role)") from None
        return sorted(aws.session().get_available_regions("rds"))


def scan(
    aws: Aws,
    regions: list[str],
    workers: int = 8,
    progress: Callable[[str], None] | None = None,
) -> list[RegionScan]:
    """Scan regions concurrently (at most ``workers`` at once); results in the order of ``regions``."""
    results: dict[str, RegionScan] = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, min(workers, len(regions)))) as pool:
        futures = {pool.submit(scan_region, aws, region): region for region in regions}
        for done, future in enumerate(concurrent.futures.as_completed(futures), start=1):
            region = futures[future]
            results[region] = future.result()
            if progress:
                count = len(results[region].databases)
                progress(f"scanned {region} ({done}/{len(regions)}): {count} resource(s)")
    return [results[r] for r in regions]
