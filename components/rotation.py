"""``CertificateRotation`` and ``rotate_all``: put every RDS, Aurora, Multi-AZ and DocumentDB database on a current CA.

Both install one new-style resource transform (``ResourceOptions.transforms`` on the component, or a stack
transform for ``rotate_all``). The engine runs it for every resource registered below the component, at any
depth, or for every resource in the stack; it sets the CA property and ``applyImmediately`` using the wire names
in ``rdsca.resources`` and the judgements of ``rdsca.catalog``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Literal, TypedDict

import pulumi
import pulumi_aws as aws
from pulumi.output import Unknown
from pulumi.runtime import settings as pulumi_settings

from rdsca import catalog, clock
from rdsca.resources import (
    AWS_PROVIDER_TOKEN,
    DATABASE_TYPES,
    DOCDB_CLUSTER_INSTANCE,
    RDS_CLUSTER,
    DatabaseType,
)

TYPE_TOKEN = "rdsca:index:CertificateRotation"

#: Seconds to wait for the engine-version lookup before treating restart as unknown. The SDK runs invokes on the
#: default executor (4 x --parallel threads); with a small --parallel every thread can be held by a database
#: registration waiting for this very transform, so an unbounded wait would hang the deployment.
LOOKUP_TIMEOUT_S = 10.0
RestartPolicy = Literal["allow", "avoid"]


class RotationArgs(TypedDict, total=False):
    """Arguments of ``CertificateRotation`` and ``rotate_all``."""

    ca_identifier: str
    """The CA every database gets (default ``catalog.DEFAULT_TARGET``). Unknown or retired ids are refused."""
    apply_immediately: bool
    """Apply the CA change now rather than in the maintenance window (default True). It also applies every other
    pending modification of that database at once (ModifyDBInstance ApplyImmediately)."""
    restart: RestartPolicy
    """``"allow"`` (default), or ``"avoid"``: databases whose engine version may restart to rotate (including
    "unknown") get ``apply_immediately=False`` and rotate in their maintenance window."""
    fallback_ca: str | None
    """The CA for databases whose engine refuses ``ca_identifier`` (SQL Server and DocumentDB 3.6 refuse the
    ECC384 CA). Without it, such a database is an error at program run time."""
    set_account_default: bool
    """Also manage ``aws.rds.Certificate``: the account's default CA for new launches in the region (default False)."""
    keep_current: bool
    """Keep a CA that a resource names explicitly when it is another *current* CA (default True). Retired and
    unknown CAs are always replaced."""


class RotationConfigError(ValueError):
    """Bad arguments to ``CertificateRotation`` or ``rotate_all``, or a database no allowed CA can serve."""


@dataclass(frozen=True)
class RotationSettings:
    ca_identifier: str = catalog.DEFAULT_TARGET
    apply_immediately: bool = True
    restart: RestartPolicy = "allow"
    fallback_ca: str | None = None
    set_account_default: bool = False
    keep_current: bool = True


def _settings(**kwargs: Any) -> RotationSettings:
    """Validate the arguments before anything is registered, so nothing is half-registered on a mistake."""
    unknown = set(kwargs) - set(RotationArgs.__annotations__)
    if unknown:
        raise RotationConfigError(f"unknown argument(s): {', '.join(sorted(unknown))}")
    values = {k: v for k, v in kwargs.items() if v is not None or k == "fallback_ca"}
    s = RotationSettings(**values)
    for name in ("apply_immediately", "set_account_default", "keep_current"):
        if not isinstance(getattr(s, name), bool):
            raise RotationConfigError(f"{name} must be True or False, not {getattr(s, name)!r}")
    if s.restart not in ("allow", "avoid"):
        raise RotationConfigError(f"restart must be 'allow' or 'avoid', not {s.restart!r}")
    try:
        catalog.require_target(s.ca_identifier)
        if s.fallback_ca is not None:
            catalog.require_target(s.fallback_ca)
    except catalog.CatalogError as exc:
        raise RotationConfigError(str(exc)) from None
    if s.fallback_ca == s.ca_identifier:
        raise RotationConfigError("fallback_ca must differ from ca_identifier")
    return s


def _known_str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


@dataclass
class _RestartSummary:
    """Collects the databases that restart when their CA changes and logs them in one line per run.

    The engine gives a program no "all resources registered" event, so the line is written by a task that the
    SDK awaits before the program ends (``SETTINGS.outputs``) once no registration RPC is outstanding.
    """

    restarting: list[str] = field(default_factory=list)
    maybe: list[str] = field(default_factory=list)
    deferred: list[str] = field(default_factory=list)
    in_flight: int = 0
    _task: asyncio.Task[None] | None = None

    def ensure_task(self) -> None:
        if self._task is not None and not self._task.done():
            return
        self._task = asyncio.ensure_future(self._emit_when_quiet())
        with pulumi_settings.SETTINGS.lock:
            pulumi_settings.SETTINGS.outputs.add(self._task)

    async def _emit_when_quiet(self) -> None:
        rpc_manager = pulumi_settings.SETTINGS.rpc_manager
        seen: set[Any] = set()
        last = -1
        while True:
            seen.update(rpc_manager.rpcs)
            pending = [f for f in seen if not f.done()]
            if pending:
                await asyncio.wait(pending)
                continue
            await asyncio.sleep(0.01)
            count = len(self.restarting) + len(self.maybe)
            if count == last and self.in_flight == 0 and all(f.done() for f in rpc_manager.rpcs):
                break
            last = count
        self.flush()

    def flush(self) -> None:
        if not (self.restarting or self.maybe):
            return
        parts = []
        if self.restarting:
            parts.append(f"{len(self.restarting)} restart when their CA changes: {', '.join(sorted(self.restarting))}")
        if self.maybe:
            parts.append(
                f"{len(self.maybe)} may restart (AWS does not say whether the engine version rotates without "
                f"restart): {', '.join(sorted(self.maybe))}"
            )
        if self.deferred:
            parts.append(f"restart='avoid' defers {len(self.deferred)} to their maintenance window")
        pulumi.log.info("rdsca: " + "; ".join(parts))
        self.restarting.clear()
        self.maybe.clear()
        self.deferred.clear()


class _Rotator:
    """The transform shared by ``CertificateRotation`` and ``rotate_all``."""

    def __init__(self, settings: RotationSettings) -> None:
        self.settings = settings
        self.summary = _RestartSummary()
        self._provider_regions: dict[str, str | None] = {}
        self._flags: dict[tuple[str, str, str | None], asyncio.Future[bool | None]] = {}

    # -- region ----------------------------------------------------------------------------------------------------
    async def _region(self, props: dict[str, Any], opts: pulumi.ResourceOptions | None) -> str | None:
        # Region of a resource: its own `region` input (pulumi-aws 7), else its provider's, else `aws:region`.
        own = _known_str(props.get("region"))
        if own:
            return own
        provider = getattr(opts, "provider", None) if opts is not None else None
        if provider is not None:
            try:
                urn = await provider.urn.future()
            except Exception:
                urn = None
            if isinstance(urn, str) and "::pulumi:providers:aws::" in urn:
                name = urn.rsplit("::", 1)[-1]
                if name in self._provider_regions:
                    return self._provider_regions[name]
        return pulumi.Config("aws").get("region")

    # -- restart ---------------------------------------------------------------------------------------------------
    async def _rotation_flag(self, engine: str, version: str, region: str | None) -> bool | None:
        """``SupportsCertificateRotationWithoutRestart`` from AWS via the data source, once per engine version."""
        key = (engine, version, region)
        if key not in self._flags:
            loop = asyncio.get_running_loop()
            future: asyncio.Future[bool | None] = loop.create_future()
            self._flags[key] = future
            try:
                # The output form: a synchronous data-source call would block the running event loop.
                lookup = aws.rds.get_engine_version_output(engine=engine, version=version, region=region).future()
                result = await asyncio.wait_for(asyncio.shield(lookup), LOOKUP_TIMEOUT_S)
                flag = getattr(result, "supports_certificate_rotation_without_restart", None) if result else None
                future.set_result(flag if isinstance(flag, bool) else None)
            except Exception as exc:
                pulumi.log.debug(f"rdsca: no engine version facts for {engine} {version}: {exc}")
                future.set_result(None)
        return await self._flags[key]

    async def _restart(self, engine: str | None, version: str | None, region: str | None) -> catalog.Restart:
        verdict = catalog.restart_on_rotation(engine, version)
        if verdict is not catalog.Restart.UNKNOWN or not engine or not version:
            return verdict
        if catalog.rotation_flag(engine, version) is not None:
            return verdict
        return catalog.restart_on_rotation(engine, version, await self._rotation_flag(engine, version, region))

    # -- the transform ---------------------------------------------------------------------------------------------
    async def transform(self, args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
        if args.type_ == AWS_PROVIDER_TOKEN:
            self._provider_regions[args.name] = _known_str(args.props.get("region"))
            return None
        db_type = DATABASE_TYPES.get(args.type_)
        if db_type is None:
            return None
        self.summary.in_flight += 1
        try:
            return await self._rotate(db_type, args)
        finally:
            self.summary.in_flight -= 1
            self.summary.ensure_task()

    async def _rotate(
        self, db_type: DatabaseType, args: pulumi.ResourceTransformArgs
    ) -> pulumi.ResourceTransformResult | None:
        s = self.settings
        props = dict(args.props)
        raw_engine = props.get(db_type.engine_property) if db_type.engine_property else None
        engine = _known_str(raw_engine) or (db_type.default_engine if raw_engine is None else None)
        if db_type is RDS_CLUSTER:
            if engine is None:
                pulumi.log.warn(
                    f"rdsca: {args.name}: the cluster's engine is not known yet, so rdsca cannot tell a Multi-AZ DB "
                    "cluster (which carries a CA) from an Aurora cluster (which does not); left unchanged"
                )
                return None
            if engine.startswith(db_type.skip_engine_prefix or "\0"):
                return None  # Aurora: the CA lives on each cluster instance.
        version = _known_str(props.get(db_type.version_property)) if db_type.version_property else None
        region = await self._region(props, args.opts)
        if engine and catalog.evaluate(None, engine, version).status is catalog.Status.NOT_APPLICABLE:
            return None  # RDS Custom ignores the CA setting.

        current = props.get(db_type.ca_property)
        if isinstance(current, (Unknown, pulumi.Output)):
            pulumi.log.warn(
                f"rdsca: {args.name}: its CA comes from another resource's output and is not known yet; rdsca "
                "checks it once the value is known (pulumi up)"
            )
            return None
        chosen = self._choose(args.name, db_type, current, engine, version, region)
        props[db_type.ca_property] = chosen

        restart = await self._restart(engine, version, region)
        apply_now = s.apply_immediately
        label = f"{args.name} ({engine or db_type.kind})"
        if restart is catalog.Restart.YES:
            self.summary.restarting.append(label)
        elif restart is catalog.Restart.UNKNOWN:
            self.summary.maybe.append(label)
        if s.restart == "avoid" and restart is not catalog.Restart.NO:
            apply_now = False
            self.summary.deferred.append(label)
        if db_type.apply_immediately:
            props[db_type.apply_immediately] = apply_now
        return pulumi.ResourceTransformResult(props=props, opts=args.opts)

    def _choose(
        self,
        name: str,
        db_type: DatabaseType,
        current: Any,
        engine: str | None,
        version: str | None,
        region: str | None,
    ) -> str:
        s = self.settings
        today = clock.today()
        if current is not None:
            verdict = catalog.evaluate(current, engine, version, region, today)
            if verdict.status is catalog.Status.OK and s.keep_current:
                self._warn(name, verdict)
                return str(current)
        for candidate in (s.ca_identifier, s.fallback_ca):
            if candidate is None:
                continue
            verdict = catalog.evaluate(candidate, engine, version, region, today)
            if verdict.status is catalog.Status.OK:
                self._warn(name, verdict)
                if version is None and db_type is DOCDB_CLUSTER_INSTANCE:
                    refusing = catalog.refusing_versions(engine, candidate)
                    if refusing:
                        pulumi.log.warn(
                            f"rdsca: {name}: DocumentDB versions {', '.join(refusing)} refuse {candidate}; the "
                            "instance's engine version is set on its cluster, so rdsca cannot check it here"
                        )
                return candidate
        engine_text = f"{engine} {version}" if version else str(engine)
        hint = (
            "choose a fallback_ca the engine accepts"
            if s.fallback_ca
            else f"pass fallback_ca (for example {catalog.RSA4096_G1})"
        )
        raise RotationConfigError(
            f"{db_type.kind} {name!r} ({engine_text}) cannot use {s.ca_identifier}: {verdict.reason}; {hint}"
        )

    @staticmethod
    def _warn(name: str, verdict: catalog.Verdict) -> None:
        for warning in verdict.warnings:
            pulumi.log.warn(f"rdsca: {name}: {warning}")


def _account_default(name: str, settings: RotationSettings, parent: pulumi.Resource | None) -> aws.rds.Certificate:
    return aws.rds.Certificate(
        name, certificate_identifier=settings.ca_identifier, opts=pulumi.ResourceOptions(parent=parent)
    )


class CertificateRotation(pulumi.ComponentResource):
    """Every database created below this component (any depth) gets the CA and the apply mode.

    >>> rotation = CertificateRotation("ca", restart="avoid")
    >>> aws.rds.Instance("db", ..., opts=pulumi.ResourceOptions(parent=rotation))
    """

    ca_identifier: str
    account_default: aws.rds.Certificate | None

    def __init__(
        self,
        resource_name: str,
        ca_identifier: str = catalog.DEFAULT_TARGET,
        apply_immediately: bool = True,
        restart: RestartPolicy = "allow",
        fallback_ca: str | None = None,
        set_account_default: bool = False,
        keep_current: bool = True,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        settings = _settings(
            ca_identifier=ca_identifier,
            apply_immediately=apply_immediately,
            restart=restart,
            fallback_ca=fallback_ca,
            set_account_default=set_account_default,
            keep_current=keep_current,
        )
        self._rotator = _Rotator(settings)
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(transforms=[self._rotator.transform]))
        super().__init__(
            TYPE_TOKEN,
            resource_name,
            {
                "caIdentifier": settings.ca_identifier,
                "applyImmediately": settings.apply_immediately,
                "restart": settings.restart,
                "fallbackCa": settings.fallback_ca,
            },
            opts,
        )
        self.ca_identifier = settings.ca_identifier
        self.account_default = (
            _account_default(f"{resource_name}-account-default", settings, self) if set_account_default else None
        )
        self.register_outputs({"caIdentifier": settings.ca_identifier})


def rotate_all(
    ca_identifier: str = catalog.DEFAULT_TARGET,
    apply_immediately: bool = True,
    restart: RestartPolicy = "allow",
    fallback_ca: str | None = None,
    set_account_default: bool = False,
    keep_current: bool = True,
) -> None:
    """Apply the rotation rule to every database in the stack, with one line at the top of ``__main__.py``.

    Registers a stack transform (``pulumi.runtime.register_resource_transform``): resources registered after
    this call are covered, wherever they sit in the resource tree.
    """
    settings = _settings(
        ca_identifier=ca_identifier,
        apply_immediately=apply_immediately,
        restart=restart,
        fallback_ca=fallback_ca,
        set_account_default=set_account_default,
        keep_current=keep_current,
    )
    rotator = _Rotator(settings)
    pulumi.runtime.register_resource_transform(rotator.transform)
    if set_account_default:
        _account_default("rdsca-account-default", settings, None)
