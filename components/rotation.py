"""``CertificateRotation`` and ``rotate_all``: put every RDS, Aurora, Multi-AZ and DocumentDB database on a current CA.

Both install one new-style resource transform (``ResourceOptions.transforms`` on the component, or a stack
transform for ``rotate_all``). The engine runs it for every resource registered below the component, at any
depth, or for every resource in the stack; it reads each resource through ``rdsca.resources.database_view``, sets
the CA property and ``applyImmediately``, and takes every judgement from ``rdsca.catalog``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import pulumi
import pulumi_aws as aws

from rdsca import catalog, clock, sdk_internals
from rdsca.errors import RdscaError
from rdsca.resources import (
    AWS_PROVIDER_TOKEN,
    DOCDB_CLUSTER_INSTANCE,
    MISSING,
    PULUMI_DATABASES,
    DatabaseView,
    Kind,
    Unknown,
    database_view,
    known_text,
)

TYPE_TOKEN = "rdsca:index:CertificateRotation"

#: Seconds to wait for the engine-version lookup before treating restart as unknown. The SDK runs invokes on the
#: default executor (4 x --parallel threads); with a small --parallel every thread can be held by a database
#: registration waiting for this very transform, so an unbounded wait would hang the deployment.
LOOKUP_TIMEOUT_S = 10.0
RestartPolicy = Literal["auto", "allow", "avoid"]


class RotationConfigError(RdscaError, ValueError):
    """Bad arguments to ``CertificateRotation`` or ``rotate_all``, or a database no allowed CA can serve."""


@dataclass(frozen=True)
class RotationArgs:
    """The arguments of ``CertificateRotation`` and ``rotate_all``: their one definition (names, defaults, docs).

    Both keep explicit keyword signatures built from these fields;
    ``tests/test_structure.py::test_component_signatures_match_the_one_argument_definition`` checks that they
    match. Constructing one validates it, so nothing is registered on a mistake.
    """

    ca_identifier: str = catalog.DEFAULT_TARGET
    """The CA every database gets. Unknown, retired and expired ids are refused."""
    apply_immediately: bool | None = None
    """None: AWS's rotation guide decides per database (``restart``). True or False: every changed database gets
    it. Applying now also applies every other pending modification of that database (ModifyDBInstance
    ApplyImmediately)."""
    restart: RestartPolicy = "auto"
    """``"auto"``: a database on a retired or expired CA is changed now (its verifying clients already fail), one
    that rotates without a restart now, others in their maintenance window. ``"allow"``: all now. ``"avoid"``:
    only those that do not restart now."""
    fallback_ca: str | None = None
    """The CA for databases whose engine refuses ``ca_identifier`` (SQL Server and DocumentDB 3.6 refuse the
    ECC384 CA). Without it, such a database is an error at program run time."""
    set_account_default: bool = False
    """Also manage ``aws.rds.Certificate``: the account's default CA for new launches in the region."""
    keep_current: bool = True
    """Keep a CA that a resource names explicitly when it is another *current* CA. Retired and unknown CAs are
    always replaced."""

    def __post_init__(self) -> None:
        for name in ("set_account_default", "keep_current"):
            if not isinstance(getattr(self, name), bool):
                raise RotationConfigError(f"{name} must be True or False, not {getattr(self, name)!r}")
        if self.apply_immediately is not None and not isinstance(self.apply_immediately, bool):
            raise RotationConfigError(f"apply_immediately must be None, True or False, not {self.apply_immediately!r}")
        if self.restart not in catalog.RESTART_POLICIES:
            raise RotationConfigError(f"restart must be 'auto', 'allow' or 'avoid', not {self.restart!r}")
        try:
            # Expiry is judged for each database in its own region (CA validity differs by region).
            catalog.require_target(self.ca_identifier, expiry=False)
            if self.fallback_ca is not None:
                catalog.require_target(self.fallback_ca, expiry=False)
        except catalog.CatalogError as exc:
            raise RotationConfigError(str(exc)) from None
        if self.fallback_ca == self.ca_identifier:
            raise RotationConfigError("fallback_ca must differ from ca_identifier")

    @classmethod
    def of(cls, arguments: Mapping[str, Any]) -> RotationArgs:
        """From a call's arguments (``locals()`` of a signature built from the fields); None means the default."""
        given = {f.name: arguments[f.name] for f in dataclasses.fields(cls) if f.name in arguments}
        return cls(**{k: v for k, v in given.items() if v is not None or k in ("fallback_ca", "apply_immediately")})


def _read(props: Mapping[str, Any], name: str) -> Any:
    """A transform's property: outputs of other resources (unknown during a preview) become ``Unknown``."""
    if name not in props or props[name] is None:
        return MISSING
    value = props[name]
    if isinstance(value, pulumi.Output) or pulumi.contains_unknowns(value):
        return Unknown(name, reason="comes from another resource's output")
    return value


class _DocDbClusters:
    """Which DocumentDB cluster each instance belongs to, for its engine version (DocumentDB 3.6 refuses ECC384).

    The engine's transform sees an instance's ``cluster_identifier`` as unknown during a preview when it is another
    resource's output, without the dependency behind it; a legacy (in-process) transformation sees the program's
    own values, ``Output``s included, before registration. So this one only observes: it records each instance's
    cluster reference and each cluster named by a literal identifier, and the engine's transform then follows the
    reference to the cluster (``Output.resources()``) and reads its engine version.
    """

    def __init__(self) -> None:
        self.instances: dict[str, Any] = {}
        self.by_identifier: dict[str, aws.docdb.Cluster] = {}

    def observe(self, args: pulumi.ResourceTransformationArgs) -> None:
        if isinstance(args.resource, aws.docdb.Cluster):
            identifier = args.props.get("cluster_identifier")
            if isinstance(identifier, str):
                self.by_identifier[identifier] = args.resource
        elif isinstance(args.resource, aws.docdb.ClusterInstance):
            self.instances[args.name] = args.props.get("cluster_identifier")

    async def engine_version(self, instance: str) -> str | None:
        """The engine version of the instance's cluster when the program says it, else None (cannot decide)."""
        reference = self.instances.get(instance)
        clusters: list[Any] = []
        if isinstance(reference, pulumi.Output):
            clusters = [r for r in await sdk_internals.output_resources(reference) if isinstance(r, aws.docdb.Cluster)]
        elif isinstance(reference, str) and reference in self.by_identifier:
            clusters = [self.by_identifier[reference]]
        for cluster in clusters:
            version = await cluster.engine_version.future()
            if isinstance(version, str) and version:
                return version
        return None


@dataclass
class _RestartSummary:
    """Collects the databases that restart when their CA changes and logs them in one line per run.

    The engine gives a program no "all resources registered" event, so the line is written by a task that the
    SDK awaits before the program ends (``sdk_internals.keep_program_waiting``) once no registration RPC is
    outstanding.
    """

    #: Databases that restart (or may) now, because their CA change is applied now: logged as a warning.
    restarting: list[str] = field(default_factory=list)
    maybe: list[str] = field(default_factory=list)
    #: Databases whose change waits for the maintenance window, where they restart.
    deferred: list[str] = field(default_factory=list)
    in_flight: int = 0
    _task: asyncio.Task[None] | None = None

    def ensure_task(self) -> None:
        if self._task is not None and not self._task.done():
            return
        self._task = asyncio.ensure_future(self._emit_when_quiet())
        sdk_internals.keep_program_waiting(self._task)

    async def _emit_when_quiet(self) -> None:
        seen: set[Any] = set()
        last = -1
        while True:
            seen.update(sdk_internals.outstanding_registrations())
            pending = [f for f in seen if not f.done()]  # type: ignore[attr-defined]
            if pending:
                await asyncio.wait(pending)
                continue
            await asyncio.sleep(0.01)
            count = len(self.restarting) + len(self.maybe) + len(self.deferred)
            quiet = all(f.done() for f in sdk_internals.outstanding_registrations())  # type: ignore[attr-defined]
            if count == last and self.in_flight == 0 and quiet:
                break
            last = count
        self.flush()

    def flush(self) -> None:
        parts = []
        if self.restarting:
            parts.append(f"{len(self.restarting)} restart now, as their CA change is applied now: "
                         f"{', '.join(sorted(self.restarting))}")
        if self.maybe:
            parts.append(
                f"{len(self.maybe)} may restart now (AWS does not say whether the engine version rotates without "
                f"restart): {', '.join(sorted(self.maybe))}"
            )
        if parts:
            # Restarts are never silent: a warning, which `pulumi preview` shows (info lines are hidden by default).
            pulumi.log.warn("rdsca: " + "; ".join(parts) + "; applying now also applies every other pending "
                            "modification of those databases")
        if self.deferred:
            pulumi.log.info(f"rdsca: {len(self.deferred)} wait for their maintenance window, where they restart: "
                            f"{', '.join(sorted(self.deferred))}")
        self.restarting.clear()
        self.maybe.clear()
        self.deferred.clear()


class _Rotator:
    """The transform shared by ``CertificateRotation`` and ``rotate_all``."""

    def __init__(self, settings: RotationArgs) -> None:
        self.settings = settings
        self.summary = _RestartSummary()
        self.clusters = _DocDbClusters()
        self._provider_regions: dict[str, str | None] = {}
        self._flags: dict[tuple[str, str, str | None], asyncio.Future[bool | None]] = {}

    # -- region ----------------------------------------------------------------------------------------------------
    async def _fallback_region(self, opts: pulumi.ResourceOptions | None) -> str | None:
        """The region of a resource that names none: its provider's, else ``aws:region``."""
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

    async def _restart(self, db: DatabaseView) -> catalog.Restart:
        engine, version = db.engine, db.engine_version
        verdict = catalog.restart_on_rotation(engine, version)
        if verdict is not catalog.Restart.UNKNOWN or not engine or not version:
            return verdict
        if catalog.rotation_flag(engine, version) is not None:
            return verdict
        return catalog.restart_on_rotation(engine, version, await self._rotation_flag(engine, version, db.region))

    # -- the transform ---------------------------------------------------------------------------------------------
    async def transform(self, args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
        if args.type_ == AWS_PROVIDER_TOKEN:
            self._provider_regions[args.name] = known_text(args.props.get("region"))
            return None
        if args.type_ not in PULUMI_DATABASES:
            return None
        self.summary.in_flight += 1
        try:
            return await self._rotate(args)
        finally:
            self.summary.in_flight -= 1
            self.summary.ensure_task()

    async def _rotate(self, args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
        props = dict(args.props)
        region = await self._fallback_region(args.opts)
        version = await self.clusters.engine_version(args.name) if args.type_ == DOCDB_CLUSTER_INSTANCE.token else None
        db = database_view(args.type_, props, args.name, region=region, engine_version=version, read=_read)
        if db is None:
            return None
        if db.undecided:
            pulumi.log.warn(f"rdsca: {args.name}: {db.undecided}; left unchanged")
            return None
        if not db.applies:
            return None  # an Aurora cluster (its instances carry the CA), RDS Custom
        if isinstance(db.ca, Unknown):
            pulumi.log.warn(
                f"rdsca: {args.name}: its CA comes from another resource's output and is not known yet; rdsca "
                "checks it once the value is known (pulumi up)"
            )
            return None
        chosen = self._choose(db)
        if chosen == db.ca:
            return None  # the CA stays: nothing else changes either (an explicit apply_immediately is the user's)
        props[db.ca_property] = chosen
        apply_field = db.type.fields.apply_immediately
        apply_now = await self._apply_now(db)
        if apply_field:
            if db.apply_immediately is not MISSING and db.apply_immediately != apply_now:
                pulumi.log.info(
                    f"rdsca: {db.name}: the CA changes to {chosen}, so apply_immediately={db.apply_immediately!r} "
                    f"is set to {apply_now!r}"
                )
            props[apply_field] = apply_now
        return pulumi.ResourceTransformResult(props=props, opts=args.opts)

    async def _apply_now(self, db: DatabaseView) -> bool:
        """The apply mode: ``apply_immediately`` when given, else the one rule of AWS's rotation guide
        (``catalog.apply_decision``), with the CA the resource names standing for its current one."""
        restart = await self._restart(db)
        label = f"{db.name} ({db.engine or db.kind})"
        if self.settings.apply_immediately is not None:
            now = self.settings.apply_immediately
        else:
            current = db.verdict().status if isinstance(db.ca, str) and db.ca else None
            now = catalog.apply_decision(current, restart, self.settings.restart).immediately
        if now and restart is catalog.Restart.YES:
            self.summary.restarting.append(label)
        elif now and restart is catalog.Restart.UNKNOWN:
            self.summary.maybe.append(label)
        elif not now and restart is not catalog.Restart.NO:
            self.summary.deferred.append(label)
        return now

    def _choose(self, db: DatabaseView) -> str:
        s = self.settings
        today = clock.today()
        if db.ca is not MISSING:
            verdict = db.verdict(today)
            if verdict.status is catalog.Status.OK and s.keep_current:
                self._warn(db.name, verdict)
                return str(db.ca)
        refused: list[catalog.Verdict] = []
        for candidate in (s.ca_identifier, s.fallback_ca):
            if candidate is None:
                continue
            verdict = db.with_ca(candidate).verdict(today)
            if verdict.status is catalog.Status.OK:
                self._warn(db.name, verdict)
                for earlier in refused:
                    pulumi.log.warn(f"rdsca: {db.name}: {earlier.reason}; using {candidate}")
                self._warn_version_unknown(db, candidate)
                return candidate
            refused.append(verdict)
        return self._none_fits(db, refused)

    def _none_fits(self, db: DatabaseView, refused: list[catalog.Verdict]) -> str:
        """No candidate fits this database. A target that has only expired here, under ``rdsca check`` (a question
        asked with ``--as-of``), is written and warned about so that the check reports it; otherwise refuse."""
        s = self.settings
        first = refused[0]
        if os.environ.get(clock.CHECK_ENV) and all(v.status is catalog.Status.EXPIRED for v in refused):
            pulumi.log.warn(f"rdsca: {db.name}: {first.reason}")
            return s.ca_identifier
        engine_text = f"{db.engine} {db.engine_version}" if db.engine_version else str(db.engine)
        hint = (
            "choose a fallback_ca the engine accepts"
            if s.fallback_ca
            else f"pass fallback_ca (for example {catalog.RSA4096_G1})"
        )
        raise RotationConfigError(
            f"{db.kind} {db.name!r} ({engine_text}) cannot use {s.ca_identifier}: {first.reason}; {hint}"
        )

    @staticmethod
    def _warn_version_unknown(db: DatabaseView, candidate: str) -> None:
        if db.engine_version is not None or db.kind is not Kind.DOCDB_INSTANCE:
            return
        refusing = catalog.refusing_versions(db.engine, candidate)
        if refusing:
            pulumi.log.warn(
                f"rdsca: {db.name}: DocumentDB versions {', '.join(refusing)} refuse {candidate}; the "
                "instance's engine version is set on its cluster, so rdsca cannot check it here"
            )

    @staticmethod
    def _warn(name: str, verdict: catalog.Verdict) -> None:
        for warning in verdict.warnings:
            pulumi.log.warn(f"rdsca: {name}: {warning}")


def _account_default(name: str, settings: RotationArgs, parent: pulumi.Resource | None) -> aws.rds.Certificate:
    return aws.rds.Certificate(
        name, certificate_identifier=settings.ca_identifier, opts=pulumi.ResourceOptions(parent=parent)
    )


class CertificateRotation(pulumi.ComponentResource):
    """Every database created below this component (any depth) gets the CA and the apply mode.

    >>> rotation = CertificateRotation("ca", restart="avoid")
    >>> aws.rds.Instance("db", ..., opts=pulumi.ResourceOptions(parent=rotation))

    The keyword arguments are ``RotationArgs``'s fields, with its defaults and meaning.
    """

    ca_identifier: str
    account_default: aws.rds.Certificate | None

    def __init__(
        self,
        resource_name: str,
        ca_identifier: str = RotationArgs.ca_identifier,
        apply_immediately: bool | None = RotationArgs.apply_immediately,
        restart: RestartPolicy = RotationArgs.restart,
        fallback_ca: str | None = RotationArgs.fallback_ca,
        set_account_default: bool = RotationArgs.set_account_default,
        keep_current: bool = RotationArgs.keep_current,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        settings = RotationArgs.of(locals())
        self._rotator = _Rotator(settings)
        own = pulumi.ResourceOptions(
            transforms=[self._rotator.transform], transformations=[self._rotator.clusters.observe]
        )
        opts = pulumi.ResourceOptions.merge(opts, own)
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
    ca_identifier: str = RotationArgs.ca_identifier,
    apply_immediately: bool | None = RotationArgs.apply_immediately,
    restart: RestartPolicy = RotationArgs.restart,
    fallback_ca: str | None = RotationArgs.fallback_ca,
    set_account_default: bool = RotationArgs.set_account_default,
    keep_current: bool = RotationArgs.keep_current,
) -> None:
    """Apply the rotation rule to every database in the stack, with one line at the top of ``__main__.py``.

    Registers a stack transform (``pulumi.runtime.register_resource_transform``): resources registered after
    this call are covered, wherever they sit in the resource tree. The arguments are ``RotationArgs``'s fields.
    """
    settings = RotationArgs.of(locals())
    rotator = _Rotator(settings)
    pulumi.runtime.register_stack_transformation(rotator.clusters.observe)
    pulumi.runtime.register_resource_transform(rotator.transform)
    if set_account_default:
        _account_default("rdsca-account-default", settings, None)
