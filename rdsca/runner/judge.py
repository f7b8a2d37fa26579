"""What ``rdsca check`` makes of a program's run: every database with its CA verdict, and the report's findings.

Everything here is deterministic whatever order the program registered its resources in (the SDK registers them
concurrently): databases are ordered by region, kind and name, resources by URN, policy diagnostics as the Pulumi
CLI orders them (level, severity, policy, URN).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rdsca import catalog
from rdsca.output import FAILING_LEVELS
from rdsca.resources import (
    AWS_PROVIDER_TOKEN,
    CLUSTER_TOKENS,
    MISSING,
    NULL,
    PULUMI_DATABASES,
    DatabaseView,
    Kind,
    Unknown,
    database_view,
    known_text,
    read_plain,
)
from rdsca.rules import config as policy_config
from rdsca.rules import rds_ca_undecided
from rdsca.rules._common import diagnostic_rank
from rdsca.runner.project import SECRET_TEXT, UNKNOWN_TEXT, Project
from rdsca.runner.secrets import SecretFilter

if TYPE_CHECKING:
    from rdsca.runner.policy_packs import PolicyResult

ROOT_STACK_TYPE = "pulumi:pulumi:Stack"


@dataclass
class DatabaseRow:
    urn: str
    name: str
    type: str
    kind: Kind
    engine: str | None
    engine_version: str | None
    region: str | None
    ca: Any
    apply_immediately: Any
    restart: str
    verdict: catalog.Verdict | None
    #: Why the verdict may not hold: a DocumentDB instance whose cluster (and so engine version) was not found.
    cannot_decide: str | None = None
    #: The database's identifier in AWS when the program names it (autonamed otherwise): how ``rdsca report``
    #: joins this resource to the live database.
    identifier: str | None = None

    @property
    def finding(self) -> bool:
        """The CA is known and not acceptable (retired, unknown, expired, refused)."""
        return self.verdict is not None and not self.verdict.acceptable

    @property
    def status(self) -> str:
        if self.verdict is None:
            return "cannot decide" if self.cannot_decide else "not known until deploy"
        if self.cannot_decide and self.verdict.acceptable:
            return "cannot decide"
        return self.verdict.status.value

    @property
    def message(self) -> str:
        """The verdict in one sentence, with the CA to use instead."""
        if self.verdict is None:
            return self.cannot_decide or "the CA comes from another resource's output: it is known at deploy time"
        if self.cannot_decide and self.verdict.acceptable:
            return self.cannot_decide
        instead = f" Use {self.verdict.replacement}." if self.verdict.replacement else ""
        return f"{self.verdict.reason}.{instead}"

    def sort_key(self) -> tuple[str, str, str, str]:
        return (self.region or "", self.kind.value, self.name, self.urn)

    def to_json(self) -> dict[str, Any]:
        verdict = self.verdict
        return {
            "urn": self.urn,
            "name": self.name,
            "identifier": self.identifier,
            "type": self.type,
            "kind": self.kind.value,
            "engine": self.engine,
            "engine_version": self.engine_version,
            "region": self.region,
            "ca": self.ca,
            "apply_immediately": self.apply_immediately,
            "restart": self.restart,
            "status": self.status,
            "reason": self.message,
            "replacement": verdict.replacement if verdict else None,
            "valid_until": verdict.valid_until.isoformat() if verdict and verdict.valid_until else None,
            "finding": self.finding,
        }


@dataclass
class CheckReport:
    program: str
    stack: str
    resources: list[dict[str, Any]]
    databases: list[DatabaseRow]
    log: list[dict[str, Any]]
    warnings: list[str]
    #: Where each resource was registered in the program (``{"uri", "line"}``), by URN.
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)
    policy: PolicyResult | None = None
    root_urn: str = ""
    #: Data-source calls answered with invented values (``{"token", "args", "echoed", "result", "shaped"}``).
    placeholder_answers: list[dict[str, Any]] = field(default_factory=list)
    #: Components their provider plugin would construct, whose contents an offline run cannot see.
    foreign_components: list[dict[str, Any]] = field(default_factory=list)
    #: False when the program (or a pack) failed: the packs did not see the whole program.
    complete: bool = True
    #: Findings set aside (``rdsca.findings``): suppressed in the source or the configuration file, or baselined.
    suppressed: list[dict[str, Any]] = field(default_factory=list)
    #: Findings left out by --check, --skip-check or --severity.
    hidden: int = 0
    #: Whether what remains fails the run (``rdsca.cli.ci.fails``); set by the command line.
    blocked_after_processing: bool = False
    #: Without a pack: the URNs whose findings remain after ``set_aside`` (None: every finding remains).
    _kept: set[str] | None = field(default=None, repr=False)

    def pack_status(self, blocked: bool) -> str:
        """What rdsca's own formats say of a pack: a pack that did not see the whole program did not pass it."""
        if blocked:
            return "blocked"
        return "passed" if self.complete else "incomplete"

    @property
    def diagnostics(self) -> list[dict[str, Any]]:
        """The pack's diagnostics as the CLI shows them: a stack policy's violation that names no resource of this
        program is the root stack's (``resolveStackPolicyViolationURN`` in pulumi/pulumi
        ``pkg/resource/deploy/analyze_snapshot.go``), in the CLI's order."""
        if not self.policy:
            return []
        urns = {r["urn"] for r in self.resources}
        resolved = [d if d["urn"] in urns else {**d, "urn": self.root_urn} for d in self.policy.diagnostics]
        return sorted(resolved, key=diagnostic_order)

    @property
    def remediations(self) -> list[dict[str, Any]]:
        # Stable: one resource's remediations keep the order the pack applied them in.
        return sorted(self.policy.remediations, key=lambda r: r["urn"]) if self.policy else []

    @property
    def blocked(self) -> bool:
        """A mandatory policy violation remains (only with a policy pack)."""
        return bool(self.policy and self.policy.blocked)

    @property
    def findings(self) -> list[DatabaseRow]:
        """Databases whose CA is known and not acceptable (retired, unknown, expired, refused), and not set aside."""
        return [d for d in self.databases if d.finding and (self._kept is None or d.urn in self._kept)]

    def finding_dicts(self) -> list[dict[str, Any]]:
        """Without a pack, the databases' findings in the one finding shape (``rdsca.findings``): a CA the engine
        refuses is rds-ca-engine-support's, any other not acceptable CA rds-ca-retired's."""
        from rdsca.rules import rds_ca_engine_support, rds_ca_retired

        found = []
        for db in self.findings:
            assert db.verdict is not None
            rule = (rds_ca_engine_support if db.verdict.status is catalog.Status.REFUSED else rds_ca_retired).RULE
            found.append({"policy": rule.name, "level": "mandatory", "severity": rule.severity, "urn": db.urn,
                          "name": db.name, "message": db.message})
        return found

    def set_aside(self, processed: Any) -> None:
        """Keep only what remains after suppressions, the baseline and the rule selection (``rdsca.findings
        .Processed``): the pack's diagnostics, or without a pack the databases' findings."""
        self.suppressed, self.hidden = list(processed.suppressed), processed.hidden
        if self.policy is None:
            self._kept = {d["urn"] for d in processed.findings}
            return
        if len(processed.findings) != len(self.policy.diagnostics):
            self.policy.diagnostics = list(processed.findings)
            for pack in self.policy.packs:
                pack.blocked = any(d["level"] in FAILING_LEVELS and d.get("pack") == pack.name
                                   for d in self.policy.diagnostics)

    @property
    def exit_findings(self) -> list[dict[str, Any]]:
        """What decides exit code 1: with a pack, its mandatory violations; without, the databases' findings."""
        if self.policy is not None:
            return [
                {"urn": d["urn"], "name": _name(d["urn"]), "rule": d["policy"], "message": d["message"]}
                for d in self.diagnostics
                if d["level"] == "mandatory"
            ]
        return [{"urn": d.urn, "name": d.name, "rule": d.status, "message": d.message} for d in self.findings]

    def attach_policy(self, policy: PolicyResult, undecided_level: str = rds_ca_undecided.RULE.level) -> None:
        """The policy pack's result; the check's own findings that no mandatory violation names are warned about
        (a pack judges each resource's inputs: a DocumentDB instance's engine version lives on its cluster).
        A CA rdsca could not see (it may come from secure config it could not decrypt) is an ``rds-ca-undecided``
        diagnostic at ``undecided_level`` (``undecided_level``), reported as rdsca's pack reports its own."""
        self.policy = policy
        self._undecided(policy, undecided_level)
        blocked = {d["urn"] for d in self.diagnostics if d["level"] == "mandatory"}
        self.warnings += policy.warnings + [
            f"{db.name}: {db.verdict.reason if db.verdict else db.message}; the policy pack did not block it"
            for db in self.findings
            if db.urn not in blocked
        ]

    def _undecided(self, policy: PolicyResult, level: str) -> None:
        rule = rds_ca_undecided.RULE
        rows = [db for db in self.databases if db.verdict is None and db.cannot_decide]
        if level == "disabled" or not rows:
            return
        from rdsca.runner.policy_packs import PackRun

        pack = next((p for p in policy.packs if p.name == PACK), None)
        if pack is None:
            # An organisation's pack under its own name: rdsca's front-end rule is listed as rdsca's.
            pack = PackRun(PACK, policy.packs[0].version if policy.packs else "0.0.0", [])
            policy.packs.append(pack)
        if not any(p["name"] == rule.name for p in pack.policies):
            pack.policies.append({"name": rule.name, "description": rule.description, "level": level,
                                  "severity": rule.severity, "remediation_steps": rule.steps, "url": "",
                                  "pack": PACK})
        for db in rows:
            message = (f"{db.name}: {db.cannot_decide}. pulumi preview decrypts it and judges the CA: give rdsca "
                       "the passphrase (PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE) or check with "
                       "pulumi preview --policy-pack policies.")
            policy.diagnostics.append({"policy": rule.name, "level": level, "urn": db.urn, "message": message,
                                       "severity": rule.severity, "pack": PACK})
        pack.blocked = pack.blocked or level == "mandatory"

    def results(self) -> list[dict[str, Any]]:
        """The one finding shape (``rdsca.findings.results``), each located where the program registered the
        resource."""
        from rdsca import findings

        found = self.diagnostics if self.policy is not None else self.finding_dicts()
        return findings.results(self._located(found), self._located(self.suppressed))

    def _located(self, found: list[dict[str, Any]]) -> list[dict[str, Any]]:
        from urllib.parse import unquote, urlparse

        located = []
        for d in found:
            source = self.sources.get(d["urn"])
            where = ({"file": unquote(urlparse(source["uri"]).path), "line": int(source.get("line") or 1)}
                     if source else None)
            located.append({**d, "location": where})
        return located

    def to_json(self) -> dict[str, Any]:
        return {
            "program": self.program,
            "stack": self.stack,
            "resources": self.resources,
            "databases": [d.to_json() for d in self.databases],
            "results": self.results(),
            "findings": self.exit_findings,
            "diagnostics": self.diagnostics,
            "remediations": self.remediations,
            "suppressed": self.suppressed,
            "warnings": self.warnings,
            "blocked": self.blocked,
            "policy_pack": {"name": self.policy.pack, "version": self.policy.version} if self.policy else None,
            "policy_packs": [
                {"name": p.name, "version": p.version, "status": self.pack_status(p.blocked)} for p in self.policy.packs
            ]
            if self.policy
            else [],
            "complete": self.complete,
            "placeholder_answers": self.placeholder_answers,
            "foreign_components": self.foreign_components,
            "log": self.log,
        }


#: The name rdsca's CrossGuard pack serves under (``rdsca.policies.PACK_NAME``; not imported: it needs pulumi_policy).
PACK = "rdsca"


def undecided_level(configs: list[Mapping[str, policy_config.PolicyConfig]]) -> str:
    """The level the ``--policy-pack-config`` files give ``rds-ca-undecided`` (layered in order as the CLI layers
    them, ``all`` included, as the Terraform check reads it). Remediate is mandatory: nothing remediates it (the
    engine reports a remediate-level diagnostic that was not fixed as mandatory)."""
    rule = rds_ca_undecided.RULE
    merged = policy_config.merge({rule.name: policy_config.PolicyConfig(rule.level, None)}, configs)
    level = merged[rule.name].level or rule.level
    return "mandatory" if level == "remediate" else level


def diagnostic_order(d: Mapping[str, Any]) -> tuple[int, int, str, str]:
    """Level, severity, policy, URN: the Pulumi CLI's order (``printPolicies`` in ``progress.go``)."""
    return (*diagnostic_rank(d["level"], d.get("severity")), d["policy"], d["urn"])


def _name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


# -- reading registrations -----------------------------------------------------------------------------------------


def _read(props: Mapping[str, Any], name: str) -> Any:
    """Recorded inputs: unknowns are the text ``[unknown]``; a null input is as good as unset (the SDK drops it)."""
    value = read_plain(props, name)
    if value == UNKNOWN_TEXT:
        return Unknown(name, reason="computed during preview")
    return MISSING if value is None or value is NULL else value


def _provider_regions(registrations: list[dict[str, Any]]) -> dict[str, str]:
    return {
        r["urn"]: r["inputs"]["region"]
        for r in registrations
        if r["type"] == AWS_PROVIDER_TOKEN and isinstance(r["inputs"].get("region"), str)
    }


def _urn_type(urn: str) -> str:
    parts = urn.split("::")
    return parts[2].rsplit("$", 1)[-1] if len(parts) >= 4 else ""


@dataclass
class _Clusters:
    """The RDS and DocumentDB clusters of the program and of ``--state``: the engine version their instances run.
    The same way as the Terraform reader (``Instance._cluster_version``): through the cluster the instance's
    ``clusterIdentifier`` came from, else a cluster with that literal identifier."""

    #: (cluster token, urn) -> engine version.
    by_urn: dict[tuple[str, str], str | None] = field(default_factory=dict)
    by_identifier: dict[tuple[str, str], tuple[str, str | None]] = field(default_factory=dict)

    @classmethod
    def of(cls, registrations: list[dict[str, Any]], state: Mapping[str, Mapping[str, Any]] | None) -> _Clusters:
        clusters = cls()
        # State first: the program's own declaration wins where it names a version.
        for urn, outputs in (state or {}).items():
            if _urn_type(urn) in CLUSTER_TOKENS:
                clusters.add(_urn_type(urn), urn, outputs)
        for reg in registrations:
            if reg["type"] in CLUSTER_TOKENS:
                clusters.add(reg["type"], reg["urn"], reg["inputs"])
        return clusters

    def add(self, token: str, urn: str, props: Mapping[str, Any]) -> None:
        version = known_text(_read(props, "engineVersion")) or self.by_urn.get((token, urn))
        self.by_urn[(token, urn)] = version
        identifier = known_text(_read(props, "clusterIdentifier"))
        if identifier:
            self.by_identifier[(token, identifier)] = (urn, version)

    def version_of(self, reg: dict[str, Any], token: str) -> tuple[str | None, str | None]:
        """(engine version, why it cannot be told) for an instance of a ``token`` cluster: through the resources its
        ``clusterIdentifier`` came from (``propertyDependencies``: ``cluster_identifier=cluster.id`` is unknown in
        a preview), else by a literal identifier."""
        for urn in reg.get("property_dependencies", {}).get("clusterIdentifier", []):
            if (token, urn) in self.by_urn:
                return self._found(urn, self.by_urn[(token, urn)])
        identifier = known_text(_read(reg["inputs"], "clusterIdentifier"))
        if identifier and (token, identifier) in self.by_identifier:
            return self._found(*self.by_identifier[(token, identifier)])
        where = f"cluster {identifier!r}" if identifier else "its cluster"
        return None, f"{where} is not in the program or the state, so its engine version is not known"

    @staticmethod
    def _found(urn: str, version: str | None) -> tuple[str | None, str | None]:
        if version:
            return version, None
        return None, f"cluster {_name(urn)} sets no engine version (AWS picks its default at creation)"


def _database(
    reg: dict[str, Any], region: str | None, clusters: _Clusters, secrets: SecretFilter
) -> DatabaseRow | None:
    version, why_not = (None, None)
    rtype = PULUMI_DATABASES[reg["type"]]
    if rtype.cluster_type is not None:
        # The cluster's version, as Terraform's reader takes it; an Aurora instance without a known cluster keeps
        # its own engineVersion (a DocumentDB instance has none, so "cannot decide" below).
        version, why_not = clusters.version_of(reg, rtype.cluster_type)
        if rtype.kind is not Kind.DOCDB_INSTANCE:
            why_not = None
    # ``values``: the judged inputs with their secrets' plaintext, which the host sends only when there are some.
    props = reg.get("values") or reg["inputs"]
    db = database_view(reg["type"], props, reg["name"], region=region, engine_version=version, read=_read)
    if db is None or db.kind is Kind.AURORA_CLUSTER or db.undecided:
        return None  # Aurora clusters carry no CA (and a cluster whose engine is unknown cannot be judged)
    row = _row(reg, db, secrets)
    refusing = catalog.refusing_versions(db.engine, db.ca) if isinstance(db.ca, str) else []
    if why_not and refusing:
        # Version patterns (3.6, 3.6.*) as people say them: 3.6.
        versions = " and ".join(dict.fromkeys(v.removesuffix(".*") for v in refusing))
        row.cannot_decide = secrets.text(f"cannot decide: DocumentDB {versions} refuses {db.ca}, and {why_not}")
    return row


def _filtered(verdict: catalog.Verdict | None, secrets: SecretFilter) -> catalog.Verdict | None:
    """A verdict with every secret's value replaced by ``[secret]`` in its text (as the engine filters messages)."""
    if verdict is None:
        return None
    return dataclasses.replace(
        verdict,
        ca_id=secrets.text(verdict.ca_id) if verdict.ca_id else verdict.ca_id,
        reason=secrets.text(verdict.reason),
        warnings=tuple(secrets.text(w) for w in verdict.warnings),
    )


def _secrets(registrations: list[dict[str, Any]]) -> SecretFilter:
    """The values the host marked secret (``[secret]`` in ``inputs``, the value in ``values``)."""
    secrets = SecretFilter()
    for reg in registrations:
        values = reg.get("values")
        if values:
            secrets.add({str(v) for k, v in values.items() if reg["inputs"].get(k) == SECRET_TEXT})
    return secrets


def _row(reg: dict[str, Any], db: DatabaseView, secrets: SecretFilter) -> DatabaseRow:
    restart = catalog.restart_on_rotation(db.engine, db.engine_version).value
    ca = None if db.ca is MISSING else (UNKNOWN_TEXT if isinstance(db.ca, Unknown) else db.ca)
    apply = None if db.apply_immediately is MISSING else db.apply_immediately
    # The placeholder a plain Config.get/require returned for config rdsca cannot read is no CA to judge.
    unseen = isinstance(db.ca, Unknown) or db.ca == SECRET_TEXT
    verdict = _filtered(None if unseen else db.verdict(), secrets)
    if read_plain(reg["inputs"], db.type.fields.ca) == SECRET_TEXT:
        ca = SECRET_TEXT  # a secret CA is judged on its value (the host passes it over the pipe), never shown
    # A value of decrypted stack config that the program read without marking it secret (Config.get_object of a
    # key holding a secure value) is still filtered, as the engine's global secret filter does.
    ca, engine, version = (secrets.text(v) if isinstance(v, str) else v for v in (ca, db.engine, db.engine_version))
    identifier = secrets.text(db.identifier) if db.identifier else None
    return DatabaseRow(
        reg["urn"], reg["name"], reg["type"], db.kind, engine, version, db.region, ca, apply, restart, verdict,
        identifier=identifier,
    )


# -- the report ----------------------------------------------------------------------------------------------------


def analyse(
    project: Project,
    result: dict[str, Any],
    state: Mapping[str, Mapping[str, Any]] | None = None,
    unused_answers: list[str] | None = None,
) -> CheckReport:
    """Turn the host's registrations into the report: restart and CA verdict per database, and what an offline
    run could not see (placeholder answers, foreign components). ``state``: outputs by URN (``--state``);
    ``unused_answers``: warnings about ``--invoke-answers`` entries the program never used."""
    registrations = sorted(result["registrations"], key=lambda r: r["urn"])
    secrets = _secrets(registrations)
    # The stack's decrypted secure config: filtered out of everything shown, as the engine does.
    secrets.add({project.config[k] for k in project.secret_keys if k in project.config} | project.secret_values)
    providers = _provider_regions(registrations)
    clusters = _Clusters.of(registrations, state)
    resources: list[dict[str, Any]] = []
    databases: list[DatabaseRow] = []
    for reg in registrations:
        entry = {k: reg[k] for k in ("urn", "type", "name", "parent")}
        entry["inputs"] = secrets.value(reg["inputs"])
        entry["restart"] = None
        resources.append(entry)
        if reg["type"] not in PULUMI_DATABASES:
            continue
        region = providers.get(reg.get("provider", "").rsplit("::", 1)[0]) or project.config.get("aws:region")
        row = _database(reg, region, clusters, secrets)
        if row is not None:
            deployed = (state or {}).get(reg["urn"]) or {}
            field_name = PULUMI_DATABASES[reg["type"]].fields.identifier
            if row.identifier is None and field_name and isinstance(deployed.get(field_name), str):
                # An autonamed database's name is in the deployed state's outputs (--state): how ``rdsca report``
                # joins the resource to the live database.
                row.identifier = secrets.text(deployed[field_name]) or None
            entry["restart"] = row.restart
            databases.append(row)
    databases.sort(key=DatabaseRow.sort_key)
    foreign = [
        {"urn": r["urn"], "type": r["type"], "name": r["name"], "package": r["type"].split(":", 1)[0]}
        for r in registrations
        if r.get("remote")
    ]
    report = CheckReport(
        program=str(project.directory),
        stack=project.stack,
        resources=resources,
        databases=databases,
        log=sorted(result.get("log", []), key=lambda e: (e.get("urn", ""), e["severity"], e["message"])),
        warnings=[],
        sources={r["urn"]: r["source"] for r in registrations if r.get("source")},
        root_urn=result.get("root_urn") or "",
        placeholder_answers=list(result.get("placeholder_answers", [])),
        foreign_components=foreign,
    )
    _unreadable_config(project, result, databases)
    report.warnings = _warnings(report, result) + project.warnings + list(unused_answers or [])
    return report


def _unreadable_config(project: Project, result: dict[str, Any], databases: list[DatabaseRow]) -> None:
    """A CA not known here is "cannot decide" when the program read config rdsca could not read."""
    reads = [k for k in result.get("secure_reads", []) if k in project.undecryptable]
    esc_reads = [k for k in result.get("secure_reads", []) if k not in project.undecryptable and project.esc]
    for row in databases:
        if row.verdict is None and (reads or esc_reads):
            # Not "another resource's output": the program read secure config rdsca could not decrypt (or config
            # only an ESC environment may set), and a CA that comes from it cannot be told (a pass would be the
            # wrong reason).
            why = [f"secure config {', '.join(reads)}, which was not decrypted ({project.undecryptable[reads[0]]})"
                   ] if reads else []
            why += [f"config {', '.join(esc_reads)}, which the stack file does not set ({project.esc})"
                    ] if esc_reads else []
            row.cannot_decide = f"cannot decide: the CA is not known here, and the program read {'; and '.join(why)}"


def _warnings(report: CheckReport, result: dict[str, Any]) -> list[str]:
    warnings = list(result.get("warnings", []))
    warnings += [e["message"] for e in report.log if e["severity"] in ("warning", "error")]
    shaped = sorted({p["token"] for p in report.placeholder_answers if p["shaped"] and not p.get("partial")})
    if shaped:
        warnings.append(
            f"data sources answered with placeholder values (offline there is no provider to ask): "
            f"{', '.join(shaped)}; give real ones with --invoke-answers FILE"
        )
    for token in sorted({p["token"] for p in report.placeholder_answers if not p["shaped"]}):
        warnings.append(
            f"data source {token} cannot be answered offline: no result type for it was found in the installed "
            "provider packages, so its result fields were null; give real ones with --invoke-answers FILE"
        )
    for component in report.foreign_components:
        warnings.append(
            f"component {component['name']} ({component['type']}) is built by the {component['package']} provider "
            "plugin, which an offline run does not start: the resources inside it, databases included, are neither "
            "listed nor checked"
        )
    for db in report.databases:
        if db.cannot_decide and not db.finding:
            warnings.append(f"{db.name}: {db.cannot_decide}")
    return sorted(dict.fromkeys(warnings))


def placeholder_hint(result: Mapping[str, Any]) -> str | None:
    """One line for a failed program that used placeholder answers: which data sources, how to give real ones."""
    tokens = sorted({p["token"] for p in result.get("placeholder_answers", [])})
    if not tokens:
        return None
    return (
        f"data sources answered with placeholder values: {', '.join(tokens)}; if the program failed on one of "
        "them, give real values with --invoke-answers FILE (YAML or JSON: token: result)"
    )


def unused_answers(path: Path | None, answers: Mapping[str, Any], result: Mapping[str, Any]) -> list[str]:
    """A warning for each ``--invoke-answers`` token the program never called (a typo in the token, most often)."""
    called = set(result.get("invokes", []))
    return [
        f"{path}: the program never called data source {token}; check the token (the JSON report lists the calls "
        "answered with placeholders)"
        for token in sorted(set(answers) - called)
    ]
