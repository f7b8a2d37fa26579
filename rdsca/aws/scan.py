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

PAGE = 100
#: Both names a CA maintenance action goes by: the API model says ca-certificate-rotation, the user guide
#: server-certificate-rotation (rds-ca-facts, "Pending maintenance").
CA_ACTIONS = frozenset({"ca-certificate-rotation", "server-certificate-rotation"})


@dataclass
class Database:
    region: str
    kind: str
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


def _not_applicable(engine: str, engine_mode: str | None = None) -> str | None:
    if engine == "neptune":
        return "Neptune endpoints use certificates chained to the Amazon Root CAs; the CA setting is not used"
    if engine.startswith("custom-"):
        return "RDS Custom ignores the CA setting (ModifyDBInstance API reference)"
    if engine_mode == "serverless":
        return "Aurora Serverless v1 uses ACM certificates (Amazon Root CA); nothing to rotate"
    return None


def _kind(engine: str, in_cluster: bool) -> str:
    if engine == "docdb":
        return "DocumentDB instance"
    if engine == "neptune":
        return "Neptune instance"
    if engine.startswith("aurora"):
        return "Aurora instance"
    if engine.startswith("custom-"):
        return "RDS Custom instance"
    return "Multi-AZ cluster member" if in_cluster else "RDS instance"


def _instance(region: str, raw: dict[str, Any]) -> Database:
    engine = raw.get("Engine") or ""
    details = raw.get("CertificateDetails") or {}
    pending = raw.get("PendingModifiedValues") or {}
    # Only the CA is read from PendingModifiedValues: it can also hold a pending master password.
    return Database(
        region=region,
        kind=_kind(engine, bool(raw.get("DBClusterIdentifier")) and not engine.startswith("aurora")),
        identifier=raw["DBInstanceIdentifier"],
        arn=raw.get("DBInstanceArn") or raw["DBInstanceIdentifier"],
        engine=engine or None,
        engine_version=raw.get("EngineVersion"),
        ca=raw.get("CACertificateIdentifier"),
        server_cert_valid_till=details.get("ValidTill"),
        pending_ca=pending.get("CACertificateIdentifier"),
        tags={t["Key"]: t.get("Value", "") for t in raw.get("TagList") or []},
        cluster=raw.get("DBClusterIdentifier"),
        not_applicable=_not_applicable(engine),
        endpoint_address=(raw.get("Endpoint") or {}).get("Address"),
        endpoint_port=(raw.get("Endpoint") or {}).get("Port"),
    )


def _cluster(region: str, raw: dict[str, Any]) -> Database | None:
    """Multi-AZ DB clusters carry a CA; Aurora clusters do not (their instances do) and are skipped, except
    Aurora Serverless v1, listed as not applicable."""
    engine = raw.get("Engine") or ""
    mode = raw.get("EngineMode")
    multi_az = bool(raw.get("DBClusterInstanceClass")) and not engine.startswith("aurora")
    if not multi_az and mode != "serverless":
        return None
    if engine in ("docdb", "neptune"):
        return None
    details = raw.get("CertificateDetails") or {}
    pending = raw.get("PendingModifiedValues") or {}
    return Database(
        region=region,
        kind="Multi-AZ DB cluster" if multi_az else "Aurora Serverless v1 cluster",
        identifier=raw["DBClusterIdentifier"],
        arn=raw.get("DBClusterArn") or raw["DBClusterIdentifier"],
        engine=engine or None,
        engine_version=raw.get("EngineVersion"),
        ca=details.get("CAIdentifier") or raw.get("CACertificateIdentifier"),
        server_cert_valid_till=details.get("ValidTill"),
        pending_ca=pending.get("CACertificateIdentifier"),
        tags={t["Key"]: t.get("Value", "") for t in raw.get("TagList") or []},
        not_applicable=_not_applicable(engine, mode),
        endpoint_address=raw.get("Endpoint"),
        endpoint_port=raw.get("Port"),
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
        # A Multi-AZ DB cluster's members carry the cluster's CA: judge the cluster, list members as such.
        multi_az = {d.identifier for d in result.databases if d.kind == "Multi-AZ DB cluster"}
        for db in instances:
            if db.cluster in multi_az and db.not_applicable is None:
                db.not_applicable = f"member of Multi-AZ DB cluster {db.cluster}: its CA is set on the cluster"

    def proxies() -> None:
        for raw in _pages(rds, "describe_db_proxies", "DBProxies"):
            result.databases.append(
                Database(
                    region,
                    "RDS Proxy",
                    raw["DBProxyName"],
                    raw.get("DBProxyArn") or raw["DBProxyName"],
                    raw.get("EngineFamily"),
                    None,
                    None,
                    not_applicable="RDS Proxy uses ACM certificates (Amazon Root CA); nothing to rotate",
                    endpoint_address=raw.get("Endpoint"),
                )
            )

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
