"""The offline engine's step for each registration: what ``pulumi preview`` does between the program and its output.

For every resource the program registers, in the order of pulumi/pulumi ``pkg/resource/deploy/step_generator.go``
(``continueStepsFromImport``) and ``default_providers.go``:

1. a custom resource without a provider gets the package's **default provider**, registered (and analysed) the
   first time it is needed: ``pulumi:providers:<pkg>`` named ``default_<version>``, whose inputs are the stack
   config of that package plus ``version``;
2. for a resource the ``--state`` file has, **ignore_changes** puts the old inputs back (``processIgnoreChanges``);
3. each policy pack **remediates** the inputs, pack after pack, and the program gets the remediated inputs back;
4. each pack **analyses** the final inputs (queued: the pack works while the program goes on);
5. the **planned state**: a new resource's inputs, its other outputs unknown (the provider computes them); an
   existing one's deployed outputs with the new inputs on top, and its ID.

When the program is done, every pack's ``AnalyzeStack`` sees each resource's planned outputs.
"""

from __future__ import annotations

import dataclasses
import json
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pulumi.runtime.proto import analyzer_pb2

from rdsca import sdk_internals
from rdsca.resources import resource_type
from rdsca.runner.ignore_changes import process_ignore_changes
from rdsca.runner.monitor import Goal, LogEntry, Registration, wire_to_json, wire_to_plain
from rdsca.runner.pack_calls import PolicyRun
from rdsca.runner.pack_client import Subject, analyzer_value, struct
from rdsca.runner.secrets import SecretFilter, holds_secret
from rdsca.runner.state import OldResource, StackState

PROVIDER_PREFIX = "pulumi:providers:"
_SEMVER = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+([0-9A-Za-z.-]+))?$")


def default_provider_name(version: str, download_url: str = "") -> str:
    """``ProviderRequest.DefaultName``: ``default``, then ``_MAJOR_MINOR_PATCH`` and the pre-release and build parts
    (QNames allow no dashes), then the download URL made QName-legal."""
    name = "default"
    match = _SEMVER.match(version) if version else None
    if match:
        name += "_{}_{}_{}".format(*match.groups()[:3])
        for part in (match[4], match[5]):
            if part:
                name += "".join(f"_{piece}" for piece in part.split("."))
    if download_url:
        name += "_" + re.sub(r"[^A-Za-z0-9_.]", "_", download_url)
    return name


@dataclass
class _Record:
    registration: Registration
    #: What ``AnalyzeStack`` sees: the planned outputs (components: the outputs they registered).
    outputs: dict[str, Any] = field(default_factory=dict)
    fields: dict[str, Any] = field(default_factory=dict)


def _judged_values(token: str, props: dict[str, Any]) -> dict[str, Any] | None:
    """The values ``rdsca check`` judges a database on (CA, engine, version, region...) with secrets' plaintext,
    when one of them is secret: a secret CA is judged on its value. Nothing else's plaintext leaves the host."""
    rtype = resource_type(token)
    if rtype is None:
        return None
    names = {n.split(".")[0] for n in dataclasses.astuple(rtype.fields) if n}
    judged = {k: v for k, v in props.items() if k in names}
    if not holds_secret(judged):
        return None
    return {**wire_to_json(props), **wire_to_plain(judged)}


class OfflineEngine:
    """See the module docstring. ``project``: the host spec's ``project``, ``stack``, ``organization``, ``config``
    (qualified key -> string) and ``secure_keys``. Thread-safe: the SDK registers from many threads."""

    def __init__(
        self,
        project: dict[str, Any],
        state: StackState | None,
        policies: PolicyRun | None,
        secrets: SecretFilter,
        events: Callable[[str, str], None] | None = None,
    ) -> None:
        self.project = project
        #: Told of each registration (``rdsca check``'s progress line).
        self.events = events
        self.state = state
        self.policies = policies
        self.secrets = secrets
        self.log: list[LogEntry] = []
        self.warnings: list[str] = []
        self.root_urn = ""
        self._records: dict[int, _Record] = {}
        self._by_urn: dict[str, _Record] = {}
        self._providers: dict[tuple[str, str, str], str] = {}
        self._provider_messages: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._provider_lock = threading.Lock()
        self._next = 0
        self._ready = policies is None

    # -- the registrations, in order ------------------------------------------------------------------------------
    @property
    def registrations(self) -> list[Registration]:
        with self._lock:
            return [self._records[i].registration for i in sorted(self._records)]

    def _index(self) -> int:
        with self._lock:
            self._next += 1
            return self._next

    def _check_policies(self) -> None:
        """Before a registration: the packs are configured, and none has failed (a failure stops the program)."""
        if self.policies is None:
            return
        if not self._ready:
            self.policies.ready()
            self._ready = True
        failure = self.policies.failure()
        if failure is not None:
            raise failure

    # -- one registration -----------------------------------------------------------------------------------------
    def register(self, goal: Goal) -> tuple[str, dict[str, Any] | None]:
        """Run the step for ``goal``; the ID and the state the program gets back (None: its own inputs)."""
        self._check_policies()
        if goal.custom and not goal.provider and not goal.type.startswith(PROVIDER_PREFIX):
            goal.provider = self._default_provider(goal)
        index = self._index()
        given = analyzer_value(goal.wire)
        self.secrets.add_value(given)
        old = self.state.get(goal.urn) if self.state else None
        props = self._ignore_changes(goal, given, old)
        fields: dict[str, Any] = {}
        if self.policies is not None and not goal.read:
            subject = Subject(goal.type, goal.name, goal.urn)
            fields = self._fields(goal)
            props = self.policies.remediate(index, subject, fields, props)
            self.policies.analyze(index, subject, fields, props)
        ident, outputs = self._plan(goal, props, old)
        inputs = wire_to_json(props)
        registration = Registration(
            **goal.resource(), inputs=inputs, wire=props, values=_judged_values(goal.type, props)
        )
        record = _Record(registration, outputs if goal.custom else {}, fields)
        with self._lock:
            self._records[index] = record
            self._by_urn[goal.urn] = record
        if self.events is not None:
            self.events("resource(s) registered", f"{goal.type} {goal.name}")
        if not goal.custom:
            return ident, {}
        return ident, None if props == given and old is None else outputs

    def register_outputs(self, urn: str, outputs: dict[str, Any]) -> None:
        """A component's (or the stack's) registered outputs: what ``AnalyzeStack`` sees for it."""
        values = analyzer_value(outputs)
        self.secrets.add_value(values)
        with self._lock:
            record = self._by_urn.get(urn)
            if record is not None and not record.registration.custom:
                record.outputs = values

    # -- the steps ------------------------------------------------------------------------------------------------
    def _ignore_changes(self, goal: Goal, props: dict[str, Any], old: OldResource | None) -> dict[str, Any]:
        ignored = goal.options.get("ignoreChanges") or []
        if not ignored:
            return props
        if old is None:
            self._unseen_ignored(goal, ignored)
            return props
        props, invalid = process_ignore_changes(props, old.inputs, ignored)
        if invalid:
            paths = json.dumps(", ".join(invalid))
            message = f"cannot ignore changes in added or removed elements of the path: {paths}"
            with self._lock:
                self.log.append(LogEntry("info", message, goal.urn))
        return props

    def _unseen_ignored(self, goal: Goal, ignored: list[str]) -> None:
        """An ignored CA property of a database the state does not have: its deployed value cannot be seen."""
        rtype = resource_type(goal.type)
        if rtype is None or not any(path.split(".")[0].split("[")[0] == rtype.fields.ca for path in ignored):
            return
        where = "the --state file has no such resource" if self.state else "no --state file was given"
        with self._lock:
            self.warnings.append(
                f"{goal.name}: ignore_changes covers {rtype.fields.ca}, so a deployed database keeps its CA whatever "
                f"the program says, and {where}: the deployed value cannot be seen; the program's value was judged"
            )

    def _plan(self, goal: Goal, props: dict[str, Any], old: OldResource | None) -> tuple[str, dict[str, Any]]:
        """The ID and planned outputs of a preview step: an update starts from the deployed outputs and ID; a new
        resource's ID and provider-computed outputs are unknown."""
        provider = goal.type.startswith(PROVIDER_PREFIX)
        if old is not None and old.custom:
            return old.id or sdk_internals.UNKNOWN, {**old.outputs, **props}
        outputs = dict(props)
        for name in sdk_internals.output_only_properties(goal.type):
            outputs.setdefault(name, sdk_internals.UNKNOWN)
        # The engine gives a new provider the unknown ID during a preview; a new resource's ID is unknown too,
        # which the SDK reads from an empty ID.
        return sdk_internals.UNKNOWN if provider else "", outputs

    def _default_provider(self, goal: Goal) -> str:
        package = goal.type.split(":", 1)[0]
        if package == "pulumi":
            return ""  # the engine's built-in provider (stack references): not a registered resource
        key = (package, goal.version, goal.plugin_download_url)
        with self._provider_lock:
            reference = self._providers.get(key)
            if reference is None:
                reference = self._register_default_provider(*key)
                self._providers[key] = reference
        return reference

    def _register_default_provider(self, package: str, version: str, download_url: str) -> str:
        inputs: dict[str, Any] = {}
        for key, value in self.project["config"].items():
            namespace, _, name = key.partition(":")
            if namespace == package:
                inputs[name] = value
        for key in self.project["secure_keys"]:
            namespace, _, name = key.partition(":")
            if namespace == package:
                inputs[name] = {sdk_internals.SIG_KEY: sdk_internals.SECRET_SIG, "value": sdk_internals.UNKNOWN}
        if version:
            inputs["version"] = version
        if download_url:
            inputs["pluginDownloadURL"] = download_url
        name = default_provider_name(version, download_url)
        token = PROVIDER_PREFIX + package
        urn = f"urn:pulumi:{self.project['stack']}::{self.project['project']}::{token}::{name}"
        goal = Goal(urn=urn, type=token, name=name, parent="", custom=True, wire=inputs)
        ident, _ = self.register(goal)
        return f"{urn}::{ident}"

    def _fields(self, goal: Goal) -> dict[str, Any]:
        """The ``AnalyzeRequest`` fields other than the properties (options, provider)."""
        opts = goal.options
        # The AnalyzerResourceOptions fields, made into a message with each request: a message kept per resource
        # holds an arena of its own (~1 KB; 11 MB at 10,000 databases).
        options: dict[str, Any] = {
            "protect": bool(opts.get("protect")),
            "ignoreChanges": opts.get("ignoreChanges") or [],
            "additionalSecretOutputs": opts.get("additionalSecretOutputs") or [],
            "parent": goal.parent,
        }
        if opts.get("deleteBeforeReplace") is not None:
            options["deleteBeforeReplace"] = bool(opts["deleteBeforeReplace"])
            options["deleteBeforeReplaceDefined"] = True
        fields: dict[str, Any] = {"type": goal.type, "urn": goal.urn, "name": goal.name, "options": options}
        provider = self._provider_resource(goal.provider.rsplit("::", 1)[0]) if goal.provider else None
        if provider is not None:
            fields["provider"] = provider
        return fields

    def _provider_resource(self, urn: str) -> Any:
        """The ``AnalyzerProviderResource`` of a registered provider (built once: many resources share one)."""
        cached = self._provider_messages.get(urn)
        if cached is None:
            record = self._by_urn.get(urn)
            if record is None:
                return None
            reg = record.registration
            cached = analyzer_pb2.AnalyzerProviderResource(
                type=reg.type, urn=reg.urn, name=reg.name, properties=struct(reg.wire)
            )
            self._provider_messages[urn] = cached
        return cached

    # -- the end of the program -----------------------------------------------------------------------------------
    def analyze_stack(self) -> None:
        """Every pack's ``AnalyzeStack`` over the planned outputs of every registered (not read) resource."""
        if self.policies is None:
            return
        with self._lock:
            records = [self._records[i] for i in sorted(self._records)]

        def resources() -> Iterator[dict[str, Any]]:  # one at a time: each is made into bytes at once
            for record in records:
                reg = record.registration
                if reg.read:
                    continue
                fields = {k: v for k, v in record.fields.items() if k != "properties"}
                # The engine sends each resource's property dependencies too (analyzer_plugin.go, AnalyzeStack).
                fields.update(
                    properties=record.outputs,
                    parent=reg.parent,
                    dependencies=reg.dependencies,
                    propertyDependencies={
                        key: analyzer_pb2.AnalyzerPropertyDependencies(urns=urns)
                        for key, urns in reg.property_dependencies.items()
                    },
                )
                yield fields

        self.policies.analyze_stack(resources(), self._index())

    def state_warnings(self) -> list[str]:
        if self.state is None or not self.state.resources:
            return []
        urns = {r.urn for r in self.registrations}
        if set(self.state.resources) & urns:
            return []
        return [
            f"none of the state file's resources belong to this program (stack {self.project['stack']}, project "
            f"{self.project['project']}): check --stack and the file"
        ]

