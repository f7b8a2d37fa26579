"""A rotation campaign in one view (pure): the JSON documents of ``audit``, ``probe`` and ``check`` (Pulumi and
Terraform) joined per database, for ``rdsca report``'s HTML page and its summary.

The join: a live database is (account, region, identifier) from an audit. A probe's endpoint joins the audit's
database it was read from (its ``database`` and ``region``), else the database whose endpoint address it is, else
the identifier and region an RDS host name carries (``NAME.RANDOM.REGION.rds.amazonaws.com``, RDS User Guide,
"Finding the connection information for an RDS DB instance"). A check's resource joins the live database its
identifier names (the ``identifier`` a program or configuration sets; the region when both say one); a resource
whose identifier is not known here (autonamed) stays a row of its own.

Only the fields named here are read from an input: nothing else (a secret a future command writes, an input's
own extra keys) can reach the page.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import shlex
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rdsca import catalog
from rdsca.errors import RdscaError
from rdsca.resources import ALL_TYPES, FrontEnd, Kind

#: Inputs larger than this are refused (a report reads whole documents; an audit of 10,000 databases is ~15 MB).
MAX_INPUT_BYTES = 256 * 1024 * 1024

Status = catalog.Status
#: A campaign's states of a database, worst first: the headline counts and the order of the table. Three are the
#: CA verdicts of ``catalog.Status`` (``retired`` stands for every invalid CA: retired, expired or unknown), the
#: others what the live database or the lack of facts adds.
REFUSED, RETIRED, OK = Status.REFUSED.value, Status.RETIRED.value, Status.OK.value
RESTART_PENDING, SCHEDULED, UNDECIDED, NOT_APPLICABLE = "restart pending", "scheduled", "undecided", "not applicable"
STATES = (REFUSED, RETIRED, RESTART_PENDING, SCHEDULED, UNDECIDED, OK, NOT_APPLICABLE)
#: States that still need someone to act (``rdsca report`` exits 1 while any database is in one).
ACTION_STATES = frozenset(STATES) - {OK, NOT_APPLICABLE}
#: What each state means, shown beside the counts.
STATE_HELP = {
    REFUSED: "the CA is one this engine refuses: deployments fail",
    RETIRED: "a retired, expired or unknown CA: clients that verify TLS fail",
    "restart pending": "the CA was changed; the database serves the old certificate until it restarts",
    "scheduled": "the change waits for the maintenance window",
    "undecided": "the CA is not known here (set at deploy time, left to the account's default, or not read)",
    OK: "a current CA",
    "not applicable": "no CA to set (an Aurora cluster, a proxy)",
}

_RDS_HOST = re.compile(
    r"^(?P<id>[a-z][a-z0-9-]*)\.[a-z0-9]+\.(?P<region>[a-z]{2}(?:-[a-z]+)+-\d)\.rds\.amazonaws\.com$")


class ReportInputError(RdscaError, ValueError):
    """An input the report cannot read: one line naming the file and what is wrong."""


@dataclass(frozen=True)
class Source:
    """One input document: which command wrote it, and where it is."""

    path: str
    kind: str  # "audit", "probe", "check-pulumi", "check-terraform"
    document: Mapping[str, Any]
    #: What the page calls it: the file name, and for a check the program or configuration it judged.
    label: str


@dataclass
class Row:
    """One database (or declared resource) of the campaign, every value already text or None."""

    key: str
    identifier: str
    account: str | None = None
    region: str | None = None
    kind: str | None = None
    engine: str | None = None
    #: The live database's endpoint address (from an audit): a probe of it joins here.
    endpoint: str | None = None
    ca: str | None = None
    ca_status: str | None = None
    target: str | None = None
    apply_mode: str | None = None
    apply_why: str | None = None
    restart: str | None = None
    maintenance_window: str | None = None
    scheduled: str | None = None
    served: str | None = None
    served_days_left: int | None = None
    stores_break: list[str] = field(default_factory=list)
    stores_ready: list[str] = field(default_factory=list)
    declared: list[str] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    fix: list[str] = field(default_factory=list)
    seen_in: list[str] = field(default_factory=list)
    #: The states the code that declares it would deploy (a retired CA named in a program or configuration).
    code_status: list[str] = field(default_factory=list)
    #: How to fix that code (Terraform: ``--fix``; Pulumi: the property to set, the pack's remediation).
    code_fixes: list[str] = field(default_factory=list)
    live: bool = False
    state: str = "undecided"

    @property
    def clients(self) -> str:
        """``will break``, ``ready`` or ``unknown`` (no store judged this database)."""
        if self.stores_break:
            return "will break"
        return "ready" if self.stores_ready else "unknown"

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["clients"] = self.clients
        return data


@dataclass
class Campaign:
    today: dt.date
    sources: list[Source]
    rows: list[Row]
    warnings: list[str] = field(default_factory=list)

    def by_state(self) -> dict[str, int]:
        counts = Counter(r.state for r in self.rows)
        return {s: counts.get(s, 0) for s in STATES}

    def by_place(self) -> list[dict[str, Any]]:
        """Databases by account and region, each with its counts by state."""
        places: dict[tuple[str, str], Counter[str]] = {}
        for r in self.rows:
            places.setdefault((r.account or "-", r.region or "-"), Counter())[r.state] += 1
        return [{"account": a, "region": g, "total": sum(c.values()), **{s: c.get(s, 0) for s in STATES}}
                for (a, g), c in sorted(places.items())]

    def clients(self) -> dict[str, int]:
        counts = Counter(r.clients for r in self.rows)
        return {k: counts.get(k, 0) for k in ("will break", "ready", "unknown")}

    @property
    def needs_action(self) -> int:
        return sum(1 for r in self.rows if r.state in ACTION_STATES or r.stores_break)

    def to_json(self) -> dict[str, Any]:
        return {
            "as_of": self.today.isoformat(),
            "sources": [{"path": s.path, "kind": s.kind, "label": s.label} for s in self.sources],
            "summary": {"databases": len(self.rows), "needs_action": self.needs_action, "by_state": self.by_state(),
                        "clients": self.clients(), "by_place": self.by_place()},
            "databases": [r.to_json() for r in self.rows],
            "warnings": self.warnings,
        }


# -- reading the inputs --------------------------------------------------------------------------------------------


def load(path: Path) -> Source:
    """One input file: JSON written by ``audit``, ``probe`` or ``check`` (``--format json`` or ``--output json=``)."""
    try:
        if path.exists() and not path.is_file():
            # A folder, a device (/dev/zero never ends), a pipe: not a report.
            raise ReportInputError(f"{path}: not a file: give the JSON files rdsca audit, probe or check wrote")
        with path.open("rb") as stream:
            data = stream.read(MAX_INPUT_BYTES + 1)
        if len(data) > MAX_INPUT_BYTES:
            raise ReportInputError(f"{path}: larger than {MAX_INPUT_BYTES // 2**20} MiB: not an rdsca report")
        text = data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ReportInputError(f"{path}: cannot read it ({getattr(exc, 'strerror', None) or exc})") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReportInputError(f"{path}: not JSON ({exc.msg} at line {exc.lineno}): give the output of rdsca "
                               "audit, probe or check with --format json") from None
    except RecursionError:
        raise ReportInputError(f"{path}: not JSON rdsca wrote (nested too deeply)") from None
    return parse(document, str(path))


def parse(document: Any, path: str) -> Source:
    """Which command wrote ``document`` (by the keys each writes), checked enough that the join cannot crash."""
    if not isinstance(document, dict):
        raise ReportInputError(f"{path}: not an rdsca JSON report (a JSON object is expected)")
    if "accounts" in document and "databases" in document:
        kind, items, label = "audit", document.get("databases"), Path(path).name
    elif "endpoints" in document and "stores" in document:
        kind, items, label = "probe", document.get("endpoints"), Path(path).name
    elif "program" in document and "stack" in document:
        kind, items = "check-pulumi", document.get("databases")
        program = _text(document.get("program")) or path
        label = f"{Path(program).name or program} (stack {_text(document.get('stack')) or '?'})"
    elif str(document.get("kind", "")).startswith("terraform") and "resources" in document:
        kind, items, label = "check-terraform", document.get("resources"), _text(document.get("path")) or path
    else:
        raise ReportInputError(f"{path}: not the JSON of rdsca audit, probe or check (written by --format json)")
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise ReportInputError(f"{path}: its {'endpoints' if kind == 'probe' else 'databases'} are not a list of "
                               "objects: a damaged file?")
    return Source(path, kind, document, label)


def _object(value: Any) -> Mapping[str, Any]:
    """A nested object of an input, or an empty one when it is anything else."""
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str | None:
    """A value shown on the page: text as it is, numbers and booleans as text, anything else (objects) not at all."""
    if value is None or isinstance(value, (dict, list)):
        return None
    return str(value)


# -- joining -----------------------------------------------------------------------------------------------------


def join(sources: Sequence[Source], today: dt.date) -> Campaign:
    campaign = Campaign(today, list(sources), [])
    rows: dict[str, Row] = {}
    # Audits first: they name the live databases the other inputs join to.
    order = {"audit": 0, "probe": 1, "check-pulumi": 2, "check-terraform": 2}
    for source in sorted(sources, key=lambda s: order[s.kind]):
        if source.kind == "audit":
            _add_audit(source, rows)
        elif source.kind == "probe":
            _add_probe(source, rows, campaign.warnings, today)
        else:
            _add_check(source, rows, campaign.warnings)
    for row in rows.values():
        row.state = _state(row)
        row.fix = _fixes(row)
    campaign.rows = sorted(rows.values(), key=lambda r: (STATES.index(r.state), r.account or "", r.region or "",
                                                         r.identifier))
    return campaign


def _live_key(account: str | None, region: str | None, identifier: str) -> str:
    return f"{account or '-'}/{region or '-'}/{identifier}"


def _add_audit(source: Source, rows: dict[str, Row]) -> None:
    for d in source.document["databases"]:
        identifier = _text(d.get("identifier"))
        if not identifier:
            continue
        key = _live_key(_text(d.get("account")), _text(d.get("region")), identifier)
        row = rows.setdefault(key, Row(key, identifier))
        row.live = True
        row.account, row.region = _text(d.get("account")), _text(d.get("region"))
        row.kind, row.engine = _text(d.get("kind")), _engine(d)
        row.endpoint = _text(d.get("endpoint_address"))
        # The CA now; the target is a change already pending, else the CA the audit would move it to.
        row.ca, row.ca_status = _text(d.get("ca")), _text(d.get("ca_status"))
        row.target = _text(d.get("pending_ca")) or _text(d.get("replacement"))
        row.restart = _text(d.get("restart"))
        row.maintenance_window = _text(d.get("maintenance_window"))
        row.scheduled = _text(d.get("scheduled"))
        served = _text(d.get("served_ca"))
        row.served = served and f"{served} (until {(_text(d.get('server_certificate_valid_till')) or '?')[:10]})"
        row.findings += [str(f) for f in d.get("findings") or [] if isinstance(f, str)]
        serving = _text(d.get("serving"))
        if serving == "restart-pending":
            row.ca_status = "restart-pending"
        clients = d.get("clients")
        if isinstance(clients, dict) and clients.get("state") == "will-break":
            row.stores_break.append(_text(clients.get("detail")) or "clients (from --ready-from)")
        row.seen_in.append(source.label)


def _engine(d: Mapping[str, Any]) -> str | None:
    engine, version = _text(d.get("engine")), _text(d.get("engine_version"))
    return f"{engine} {version}" if engine and version else engine


def _find_live(rows: Mapping[str, Row], identifier: str, region: str | None,
               warnings: list[str] | None = None) -> Row | None:
    """The one live database with this identifier (in this region when one is known); None if none or several (and
    then a warning: the report does not guess)."""
    found = [r for r in rows.values() if r.live and r.identifier == identifier and (not region or r.region == region)]
    if len(found) > 1 and warnings is not None:
        places = ", ".join(sorted(f"{r.account or '-'} {r.region or '-'}" for r in found))
        warnings.append(f"{identifier} names a live database in {len(found)} places ({places}): not joined; give "
                        "the region where it is declared")
    return found[0] if len(found) == 1 else None


def _add_probe(source: Source, rows: dict[str, Row], warnings: list[str], today: dt.date) -> None:
    endpoint_of = {r.endpoint: key for key, r in rows.items() if r.live and r.endpoint}
    for e in source.document["endpoints"]:
        host = _text(e.get("host")) or ""
        identifier, region = _text(e.get("database")), _text(e.get("region"))
        row = None
        if identifier:
            row = _find_live(rows, identifier, region, warnings)
        if row is None and host in endpoint_of:
            row = rows[endpoint_of[host]]
        if row is None:
            named = _RDS_HOST.match(host.lower())
            if named and not identifier:
                identifier, region = named["id"], region or named["region"]
                row = _find_live(rows, identifier, region)
        if row is None:
            identifier = identifier or _text(e.get("endpoint")) or host or "?"
            key = f"endpoint/{region or '-'}/{identifier}"
            row = rows.setdefault(key, Row(key, identifier, region=region))
            row.engine = row.engine or _text(e.get("engine"))
        _probe_into(row, e, source.label, today)


def _probe_into(row: Row, e: Mapping[str, Any], label: str, today: dt.date) -> None:
    row.seen_in.append(label)
    if e.get("error"):
        row.findings.append(f"not probed: {_text(e.get('error'))}")
        return
    cert, issuing = _object(e.get("server_certificate")), _object(e.get("issuing_ca"))
    issuer = _text(issuing.get("family")) or _text(issuing.get("issuer")) or _text(cert.get("issuer_cn"))
    until = (_text(cert.get("valid_until")) or "?")[:10]
    row.served = f"{issuer or '?'} (until {until})"
    days = cert.get("days_left")
    row.served_days_left = days if isinstance(days, int) and not isinstance(days, bool) else None
    for store in e.get("stores") or []:
        if not isinstance(store, dict):
            continue
        name = _text(store.get("store")) or "a trust store"
        if store.get("rotation") == "will-break" or store.get("trusted") is False:
            row.stores_break.append(name)
        else:
            row.stores_ready.append(name)
    row.target = row.target or _text(e.get("target_ca"))
    if not row.live:
        # No audit says what the database is on: what it serves decides. An RDS CA is judged as any CA is (a server
        # certificate from rds-ca-2019 is retired, not a pass); an expired certificate is expired; another issuer
        # (RDS Proxy's ACM certificate) stays undecided unless a trust store judged it.
        family = _text(issuing.get("family"))
        if row.served_days_left is not None and row.served_days_left < 0:
            row.ca_status = Status.EXPIRED.value
        elif family:
            row.ca = family
            row.ca_status = catalog.evaluate(family, today=today).status.value


def _add_check(source: Source, rows: dict[str, Row], warnings: list[str]) -> None:
    doc = source.document
    located: dict[str | None, str] = {}
    program = _text(doc.get("program"))
    for result in doc.get("results") or []:
        if isinstance(result, dict) and isinstance(result.get("location"), dict):
            loc = result["location"]
            file = _text(loc.get("file")) or "?"
            if program and file.startswith(program.rstrip("/") + "/"):
                file = file[len(program.rstrip("/")) + 1:]
            located.setdefault(_text(result.get("resource")), f"{file}:{_text(loc.get('line'))}")
    terraform = source.kind == "check-terraform"
    for d in doc["resources"] if terraform else doc["databases"]:
        if terraform:
            rtype = ALL_TYPES.get(_text(d.get("type")) or "")
            if rtype is None or not rtype.database:
                continue
            address = _text(d.get("address")) or "?"
            values = _object(d.get("values"))
            identifier = _text(values.get(rtype.fields.identifier)) if rtype.fields.identifier else None
            name, region, status = address, _text(values.get("region")), _text(d.get("ca_status"))
            ca, kind = _text(values.get(rtype.fields.ca)), _text(rtype.kind.value)
            engine = _engine(values)
            src = _object(d.get("source"))
            where: str | None = f"{_text(src.get('file'))}:{_text(src.get('line'))}" if src.get("file") else None
            declared = f"{address} ({where or source.label})"
        else:
            name = _text(d.get("name")) or "?"
            identifier, region, status = _text(d.get("identifier")), _text(d.get("region")), _text(d.get("status"))
            ca, kind, engine = _text(d.get("ca")), _text(d.get("kind")), _engine(d)
            where = located.get(_text(d.get("urn")))
            declared = f"{name} in {source.label}" + (f" ({where})" if where else "")
        row = _find_live(rows, identifier, region, warnings) if identifier else None
        who = f"{name} in {source.label}"
        if row is None:
            key = f"code/{source.path}/{name}"
            row = rows.setdefault(key, Row(key, identifier or name, region=region, kind=kind, engine=engine))
            row.ca, row.ca_status = ca, status
        else:
            # The live database's CA is what it has now; the code's is what the next deployment sets.
            declared += f": declares {ca or 'no CA (the default)'}"
            if _verdict(status).needs_action:
                row.findings.append(f"{who} still names {ca} ({status}): the next deployment fails or sets it back")
        if _verdict(status).needs_action:
            row.code_status.append(_verdict_state(_verdict(status)))
            row.target = row.target or _text(d.get("replacement"))
            row.code_fixes.append(
                f"rdsca check {shlex.quote(_text(doc.get('path')) or '.')} --fix   # {name}" if terraform else
                f"set the CA of {name} to {row.target or 'a current CA'} in {where or source.label} (rdsca check "
                "--policy-pack policies --remediate shows the change)")
        row.declared.append(declared)
        row.seen_in.append(source.label)
        for result in doc.get("results") or []:
            if (isinstance(result, dict) and result.get("suppressed") is None
                    and _text(result.get("resource")) in (_text(d.get("urn")), _text(d.get("address")))):
                message = _text(result.get("message")) or ""
                row.findings.append(message.splitlines()[-1] if message else "")


def _state(row: Row) -> str:
    """The worse of what the database is now and what its code would deploy."""
    return min([_live_state(row), *row.code_status], key=STATES.index)


def _verdict(status: str | None) -> Status:
    """A check's or an audit's CA status as ``catalog.Status`` (anything else: unknown to this report, ``UNSET``)."""
    try:
        return Status((status or "").lower())
    except ValueError:
        return Status.UNSET


def _verdict_state(verdict: Status) -> str:
    return REFUSED if verdict is Status.REFUSED else RETIRED


def _live_state(row: Row) -> str:
    status = (row.ca_status or "").lower()
    verdict = _verdict(status)
    if row.scheduled and verdict.needs_action:
        return SCHEDULED
    if verdict.needs_action:
        return _verdict_state(verdict)
    if status == "restart-pending":
        return RESTART_PENDING
    if verdict is Status.NOT_APPLICABLE:
        return NOT_APPLICABLE
    if status == Status.OK.value:
        return OK
    # Unset (the code names no CA: the account's default for new launches decides, which an account may override)
    # is not known here: undecided, never ok.
    if not status and row.stores_ready and not row.stores_break and not row.findings:
        return OK  # an endpoint of no known CA that every given trust store trusts now and after rotation
    return UNDECIDED


def _fixes(row: Row) -> list[str]:
    """The commands that fix this database: the AWS CLI change for a live one (apply mode by AWS's rotation guide,
    ``catalog.apply_decision``), the reboot that makes a pending rotation take effect, ``--fix`` or the policy pack
    for the code that declares it."""
    if row.state == RESTART_PENDING and row.live:
        # The new certificate is served after a restart (RDS User Guide, "Rotating your SSL/TLS certificate").
        cluster = row.kind == Kind.MULTI_AZ_CLUSTER.value
        command = ("reboot-db-cluster --db-cluster-identifier" if cluster
                   else "reboot-db-instance --db-instance-identifier")
        region = f" --region {row.region}" if row.region else ""
        return [f"aws rds {command} {shlex.quote(row.identifier)}{region}"]
    if row.state not in (RETIRED, REFUSED) or not row.target:
        return []
    fixes = []
    rtype = _aws_type(row.kind)
    if row.live and rtype is not None and _live_state(row) in (RETIRED, REFUSED):
        status = _verdict(row.ca_status)
        try:
            restart = catalog.Restart(row.restart or "unknown")
        except ValueError:
            restart = catalog.Restart.UNKNOWN
        decision = catalog.apply_decision(status, restart)
        row.apply_mode = "immediately" if decision.immediately else "maintenance window"
        row.apply_why = decision.why
        region = f" --region {row.region}" if row.region else ""
        fixes.append(rtype.cli_command(row.target, row.identifier, decision.immediately) + region)
    return fixes + row.code_fixes


def _aws_type(kind: str | None) -> Any:
    """The resource type whose AWS CLI command changes a database of this kind (``rdsca.resources``)."""
    for rtype in ALL_TYPES.values():
        if rtype.kind.value == kind and rtype.database and rtype.front_end is not FrontEnd.AWS:
            return rtype
    return ALL_TYPES["DBInstance"] if kind and kind != Kind.AURORA_CLUSTER.value else None


def read_all(paths: Iterable[Path], today: dt.date) -> Campaign:
    return join([load(p) for p in paths], today)
