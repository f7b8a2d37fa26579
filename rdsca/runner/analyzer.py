"""The engine's side of the CrossGuard protocol: run a Python policy pack over a program's registrations, offline.

The Pulumi CLI starts a Python pack as ``python -u -m pulumi.policy <engine-address> .`` in the pack directory,
with the virtualenv named in ``PulumiPolicy.yaml``, reads the port from the pack's first line of stdout and talks
``pulumirpc.Analyzer`` to it (pulumi/pulumi ``sdk/go/common/resource/plugin/analyzer_plugin.go``). ``PolicyRun``
does the same, in the engine's order (``pkg/resource/deploy/step_generator.go``): ``ConfigureStack`` when the
plugin loads, ``GetAnalyzerInfo``, ``Configure`` with every policy's enforcement level and schema defaults merged
with the user's config file (``pkg/resource/analyzer/config.go``: defaults, then the pack's initial config, then
the file, then JSON-schema validation), then for each registered resource ``Remediate`` (whose returned
properties replace the inputs) followed by ``Analyze``, and finally ``AnalyzeStack`` over every resource's
outputs. A mandatory diagnostic, or one at level remediate that still fires, blocks the update.

What an offline run cannot reproduce, and how it stands in: the provider's ``Check`` normalisation (inputs are
what the program sent); a resource's planned outputs (for ``AnalyzeStack``: its deployed outputs from a
``pulumi stack export`` file, with this update's inputs applied on top, as a provider's preview of an update
does; the inputs alone for a new resource); default providers (the engine creates them, so ``provider`` is
empty for resources that use one and policies read ``aws:region`` from ``PULUMI_CONFIG``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import grpc
import jsonschema
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from rdsca import sdk_internals
from rdsca.runner.monitor import wire_to_json
from rdsca.runner.project import Project, load_yaml, read_text

#: The pack makes no calls back to the engine; this address is never dialled.
ENGINE_ADDRESS = "127.0.0.1:1"
STARTUP_TIMEOUT_S = 60.0
RPC_TIMEOUT_S = 120.0

LEVELS = {
    "advisory": analyzer_pb2.ADVISORY,
    "mandatory": analyzer_pb2.MANDATORY,
    "remediate": analyzer_pb2.REMEDIATE,
    "disabled": analyzer_pb2.DISABLED,
}
LEVEL_NAMES = {value: name for name, value in LEVELS.items()}
SEVERITIES = {
    analyzer_pb2.POLICY_SEVERITY_LOW: "low",
    analyzer_pb2.POLICY_SEVERITY_MEDIUM: "medium",
    analyzer_pb2.POLICY_SEVERITY_HIGH: "high",
    analyzer_pb2.POLICY_SEVERITY_CRITICAL: "critical",
}
#: What pulumi_policy answers in ``not_applicable`` for a policy that has no remediation.
NO_REMEDIATION = "Policy does not implement remediate"

_SIG = sdk_internals.SIG_KEY
_SECRET = sdk_internals.SECRET_SIG


class PolicyError(Exception):
    """The pack could not be loaded, started, configured or driven: the check stops (exit 2)."""


# -- the pack on disk ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PackDirectory:
    directory: Path
    version: str | None
    python: str
    warnings: tuple[str, ...] = ()


def load_pack(directory: Path) -> PackDirectory:
    """Read ``PulumiPolicy.yaml``; choose the interpreter the CLI would use (the pack's virtualenv)."""
    directory = directory.resolve()
    manifest = directory / "PulumiPolicy.yaml"
    if not manifest.is_file():
        raise PolicyError(f"{directory}: not a policy pack (no PulumiPolicy.yaml)")
    doc = load_yaml(manifest, PolicyError) or {}
    runtime = doc.get("runtime") if isinstance(doc, dict) else None
    name = runtime.get("name") if isinstance(runtime, dict) else runtime
    if name != "python":
        raise PolicyError(f"{manifest}: runtime is {name!r}; rdsca check runs Python policy packs only")
    options = runtime.get("options") or {} if isinstance(runtime, dict) else {}
    warnings: list[str] = []
    python = sys.executable
    venv = options.get("virtualenv") if isinstance(options, dict) else None
    if isinstance(venv, str) and venv:
        venv_dir = (directory / venv).resolve()
        candidate = venv_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
        if candidate.exists():
            python = str(candidate)
        else:
            # The CLI would create it and install requirements.txt; offline we use the interpreter running rdsca.
            warnings.append(f"the pack's virtualenv {venv_dir} does not exist; running the pack with {sys.executable}")
    version = doc.get("version")
    return PackDirectory(directory, str(version) if version is not None else None, python, tuple(warnings))


# -- policy config, as the CLI reconciles it -----------------------------------------------------------------------


@dataclass
class PolicyConfig:
    level: str
    properties: dict[str, Any] | None


def parse_config_file(path: Path) -> dict[str, PolicyConfig]:
    """A ``--policy-pack-config`` file: ``{"all": LEVEL, "<policy>": LEVEL | {"enforcementLevel": LEVEL, ...}}``."""
    text = read_text(path, PolicyError, "policy config")
    if not text.strip():
        return {}
    doc = _load_json(path, text)
    if not isinstance(doc, dict):
        raise PolicyError(f"{path}: must be a JSON object of policy names")
    result: dict[str, PolicyConfig] = {}
    for key, value in doc.items():
        if isinstance(value, str):
            level, properties = value, None
        elif isinstance(value, dict):
            properties = dict(value)
            level = properties.pop("enforcementLevel", "")
            if not isinstance(level, str):
                raise PolicyError(f"{path}: {key}: enforcementLevel must be a string")
            properties = properties or None
        else:
            raise PolicyError(f"{path}: {key}: must be an enforcement level or an object")
        if level and level not in LEVELS:
            raise PolicyError(f"{path}: {key}: {level!r} is not an enforcement level ({', '.join(LEVELS)})")
        if level or properties:
            result[key] = PolicyConfig(level, properties)
    return result


def _schema(policy: Any) -> dict[str, Any] | None:
    if not policy.HasField("configSchema"):
        return None
    properties = json_format.MessageToDict(policy.configSchema.properties)
    schema: dict[str, Any] = {"type": "object"}
    if properties:
        schema["properties"] = properties
    if policy.configSchema.required:
        schema["required"] = list(policy.configSchema.required)
    return schema


def reconcile(info: Any, given: dict[str, PolicyConfig]) -> dict[str, PolicyConfig]:
    """Defaults from each policy's schema and level, then the pack's initial config, then ``given``; validated."""
    result: dict[str, PolicyConfig] = {}
    for policy in info.policies:
        declared = _schema(policy) or {}
        defaults = {k: v["default"] for k, v in declared.get("properties", {}).items() if "default" in v}
        result[policy.name] = PolicyConfig(LEVEL_NAMES[policy.enforcementLevel], defaults or None)
    initial = {
        name: PolicyConfig(
            LEVEL_NAMES.get(cfg.enforcementLevel, ""),
            json_format.MessageToDict(cfg.properties) or None,
        )
        for name, cfg in info.initialConfig.items()
    }
    for layer in (initial, given):
        all_level = layer["all"].level if "all" in layer else ""
        if all_level:
            for cfg in result.values():
                cfg.level = all_level
        for name, cfg in layer.items():
            current = result.setdefault(name, PolicyConfig("", None))
            if cfg.level:
                current.level = cfg.level
            if cfg.properties:
                current.properties = {**(current.properties or {}), **cfg.properties}
    errors: list[str] = []
    for policy in info.policies:
        schema = _schema(policy)
        if schema is None:
            continue
        validator = jsonschema.Draft7Validator(schema)
        for error in sorted(validator.iter_errors(result[policy.name].properties or {}), key=str):
            where = ".".join(str(p) for p in error.absolute_path)
            errors.append(f"{policy.name}: {where + ': ' if where else ''}{error.message}")
    if errors:
        raise PolicyError("invalid policy config: " + "; ".join(errors))
    return result


# -- wire values ---------------------------------------------------------------------------------------------------


def analyzer_value(value: Any) -> Any:
    """A registered input as the engine marshals it for an analyzer (``KeepUnknowns``, ``KeepSecrets``, no
    resource references or output values, internal ``__`` keys dropped)."""
    if isinstance(value, list):
        return [analyzer_value(v) for v in value]
    if not isinstance(value, dict):
        return value
    sig = value.get(_SIG)
    if sig == sdk_internals.OUTPUT_VALUE_SIG:
        inner = analyzer_value(value["value"]) if "value" in value else sdk_internals.UNKNOWN
        return {_SIG: _SECRET, "value": inner} if value.get("secret") else inner
    if sig == sdk_internals.RESOURCE_SIG:
        ident = value.get("id")
        return analyzer_value(ident) if ident is not None else value.get("urn", sdk_internals.UNKNOWN)
    if sig == _SECRET:
        return {_SIG: _SECRET, "value": analyzer_value(value.get("value"))}
    if sig is not None:
        return value  # assets and archives pass through
    return {k: analyzer_value(v) for k, v in value.items() if not k.startswith("__")}


def _struct(props: dict[str, Any]) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    json_format.ParseDict(props, message)
    return message


def state_value(value: Any) -> Any:
    """A value from a ``pulumi stack export`` file in wire form: secrets exported with ``--show-secrets`` carry
    ``plaintext``; encrypted ones (``ciphertext``) cannot be read offline and count as unknown."""
    if isinstance(value, list):
        return [state_value(v) for v in value]
    if not isinstance(value, dict):
        return value
    if value.get(_SIG) == _SECRET:
        if "plaintext" in value:
            try:
                inner = json.loads(value["plaintext"])
            except (TypeError, json.JSONDecodeError):
                inner = sdk_internals.UNKNOWN
            return {_SIG: _SECRET, "value": state_value(inner)}
        if "value" in value:
            return {_SIG: _SECRET, "value": state_value(value["value"])}
        return {_SIG: _SECRET, "value": sdk_internals.UNKNOWN}
    return {k: state_value(v) for k, v in value.items()}


def load_state(path: Path) -> dict[str, dict[str, Any]]:
    """Outputs by URN from a ``pulumi stack export`` file (checkpoint version 3; bare deployments accepted)."""
    doc = _load_json(path, read_text(path, PolicyError, "state"))
    deployment = doc.get("deployment", doc) if isinstance(doc, dict) else None
    resources = deployment.get("resources") if isinstance(deployment, dict) else None
    if not isinstance(resources, list):
        raise PolicyError(f"{path}: not a stack export (expected deployment.resources, as `pulumi stack export`)")
    outputs: dict[str, dict[str, Any]] = {}
    for index, resource in enumerate(resources):
        if not isinstance(resource, dict) or not isinstance(resource.get("urn"), str) or resource.get("delete"):
            continue
        values = resource.get("outputs") or {}
        if not isinstance(values, dict):
            raise PolicyError(f"{path}: resource {index} ({resource['urn']}): outputs must be an object")
        try:
            outputs[resource["urn"]] = state_value(values)
        except RecursionError:
            raise PolicyError(f"{path}: resource {index}: outputs nested too deeply") from None
    return outputs


def _load_json(path: Path, text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise PolicyError(f"{path}: not valid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    except RecursionError:
        raise PolicyError(f"{path}: nested too deeply") from None


# -- the pack process ----------------------------------------------------------------------------------------------


class _Pack:
    """A launched pack process; ``connect`` reads its port and opens the channel (once). Always stopped by
    ``start_pack``'s context. Launching first and connecting later lets the pack start while the program runs."""

    def __init__(self, process: subprocess.Popen[bytes], stderr: IO[bytes], directory: Path) -> None:
        self.process = process
        self.stderr = stderr
        self.directory = directory
        self.channel: grpc.Channel | None = None
        self._stub: Any = None

    @property
    def stub(self) -> Any:
        return self.connect()

    def connect(self) -> Any:
        if self._stub is not None:
            return self._stub
        port = _read_port(self.process)
        if port is None:
            self.process.kill()
            self.process.wait()
            raise PolicyError(f"the policy pack {self.directory} did not start: {_stderr_tail(self.stderr)}")
        self.channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        try:
            grpc.channel_ready_future(self.channel).result(timeout=STARTUP_TIMEOUT_S)
        except grpc.FutureTimeoutError:
            raise PolicyError(f"the policy pack {self.directory} did not answer on port {port}") from None
        self._stub = analyzer_pb2_grpc.AnalyzerStub(self.channel)
        return self._stub

    def stop(self) -> None:
        if self.channel is not None:
            self.channel.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _stderr_tail(stderr: IO[bytes]) -> str:
    stderr.flush()
    stderr.seek(0)
    lines = [line.strip() for line in stderr.read().decode("utf-8", "replace").splitlines() if line.strip()]
    return " | ".join(lines[-5:]) if lines else "no error output"


@contextmanager
def start_pack(pack: PackDirectory, project: Project) -> Iterator[_Pack]:
    """Launch the pack the way the CLI does; stop it on exit, including on errors and Ctrl-C."""
    env = dict(os.environ)
    env.update(
        {
            "PULUMI_PROJECT": project.name,
            "PULUMI_STACK": project.stack,
            "PULUMI_ORGANIZATION": env.get("PULUMI_ORGANIZATION", "organization"),
            "PULUMI_DRY_RUN": "true",
            "PULUMI_CONFIG": json.dumps(project.config),
            "PULUMI_CONFIG_SECRET_KEYS": json.dumps(sorted(project.secure_keys)),
        }
    )
    with tempfile.TemporaryFile(prefix="rdsca-pack-") as stderr:
        process = subprocess.Popen(
            [pack.python, "-u", "-m", "pulumi.policy", ENGINE_ADDRESS, "."],
            cwd=pack.directory,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr,
        )
        launched = _Pack(process, stderr, pack.directory)
        try:
            yield launched
        finally:
            launched.stop()


def _read_port(process: subprocess.Popen[bytes]) -> int | None:
    """The first line of the pack's stdout is its port (``PolicyPack`` prints it once it listens)."""
    line: list[bytes] = []
    stdout = process.stdout
    assert stdout is not None
    reader = threading.Thread(target=lambda: line.append(stdout.readline()), daemon=True)
    reader.start()
    reader.join(STARTUP_TIMEOUT_S)
    if not line:
        return None
    try:
        return int(line[0].decode().strip())
    except ValueError:
        return None


# -- the run -------------------------------------------------------------------------------------------------------


@dataclass
class PolicyResult:
    pack: str
    version: str
    policies: list[dict[str, Any]]
    diagnostics: list[dict[str, Any]] = field(default_factory=list)
    remediations: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def blocked(self) -> bool:
        return any(d["level"] == "mandatory" for d in self.diagnostics)


def _diagnostic_dict(
    policy: str,
    level: str,
    urn: str,
    message: str,
    pack: str,
    severity: str | None,
    policies: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    return {
        "policy": policy,
        "level": level,
        "urn": urn,
        "message": message,
        "severity": severity or policies.get(policy, {}).get("severity"),
        "pack": pack,
    }


def _diagnostic(d: Any, urn: str, policies: dict[str, dict[str, Any]]) -> dict[str, Any]:
    level = LEVEL_NAMES.get(d.enforcementLevel, "advisory")
    # A diagnostic at level remediate means the remediation did not fix it: the engine treats it as mandatory.
    level = "mandatory" if level == "remediate" else level
    return _diagnostic_dict(d.policyName, level, urn, d.message, d.policyPackName, SEVERITIES.get(d.severity), policies)


def _changes(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"property": key, "before": wire_to_json(before.get(key)), "after": wire_to_json(after.get(key))}
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    ]


def _request(reg: dict[str, Any], props: dict[str, Any], providers: dict[str, dict[str, Any]]) -> dict[str, Any]:
    opts = reg.get("options") or {}
    options = analyzer_pb2.AnalyzerResourceOptions(
        protect=bool(opts.get("protect")),
        ignoreChanges=opts.get("ignoreChanges") or [],
        additionalSecretOutputs=opts.get("additionalSecretOutputs") or [],
        parent=opts.get("parent") or reg.get("parent") or "",
    )
    if opts.get("deleteBeforeReplace") is not None:
        options.deleteBeforeReplace = bool(opts["deleteBeforeReplace"])
        options.deleteBeforeReplaceDefined = True
    fields: dict[str, Any] = {
        "type": reg["type"],
        "urn": reg["urn"],
        "name": reg["name"],
        "properties": _struct(props),
        "options": options,
    }
    provider = providers.get((reg.get("provider") or "").rsplit("::", 1)[0])
    if provider is not None:
        fields["provider"] = analyzer_pb2.AnalyzerProviderResource(
            type=provider["type"],
            urn=provider["urn"],
            name=provider["name"],
            properties=_struct(analyzer_value(provider.get("wire") or {})),
        )
    return fields


def run_policies(
    pack: PackDirectory,
    project: Project,
    result: dict[str, Any],
    given: dict[str, PolicyConfig] | None = None,
    remediate: bool = False,
    state: dict[str, dict[str, Any]] | None = None,
    launched: _Pack | None = None,
) -> PolicyResult:
    """Drive the pack over the host's registrations (``result`` from the host); a remediation rewrites the
    registration's inputs, as the engine goes on with the remediated inputs. ``launched``: a pack already
    started with ``start_pack`` (otherwise one is started and stopped here)."""
    registrations = [r for r in result["registrations"] if not r.get("read")]
    root = result.get("root_urn") or ""
    if root:
        stack_type = root.split("::")[2]
        stack_name = root.split("::")[3]
        registrations.insert(0, {"urn": root, "type": stack_type, "name": stack_name, "parent": "", "wire": {}})
    providers = {r["urn"]: r for r in registrations if r["type"].startswith("pulumi:providers:")}
    try:
        if launched is not None:
            return _drive(launched, pack, project, registrations, providers, given or {}, remediate, state or {})
        with start_pack(pack, project) as started:
            return _drive(started, pack, project, registrations, providers, given or {}, remediate, state or {})
    except grpc.RpcError as exc:
        raise PolicyError(f"the policy pack failed: {exc.details() or exc.code()}") from None  # type: ignore[attr-defined]


def _drive(
    started: _Pack,
    pack: PackDirectory,
    project: Project,
    registrations: list[dict[str, Any]],
    providers: dict[str, dict[str, Any]],
    given: dict[str, PolicyConfig],
    remediate: bool,
    state: dict[str, dict[str, Any]],
) -> PolicyResult:
    stub = started.stub
    try:
        stub.ConfigureStack(
            analyzer_pb2.AnalyzerStackConfigureRequest(
                stack=project.stack,
                project=project.name,
                organization=os.environ.get("PULUMI_ORGANIZATION", "organization"),
                dry_run=True,
                config=project.config,
                config_secret_keys=sorted(project.secure_keys),
            ),
            timeout=RPC_TIMEOUT_S,
        )
    except grpc.RpcError as exc:
        if exc.code() != grpc.StatusCode.UNIMPLEMENTED:  # type: ignore[attr-defined]
            raise
    info = stub.GetAnalyzerInfo(empty_pb2.Empty(), timeout=RPC_TIMEOUT_S)
    policies = {
        p.name: {
            "name": p.name,
            "description": p.description,
            "level": LEVEL_NAMES.get(p.enforcementLevel, "advisory"),
            "severity": SEVERITIES.get(p.severity),
            "remediation_steps": p.remediation_steps,
            "url": p.url,
        }
        for p in info.policies
    }
    version = pack.version or info.version
    run = PolicyResult(info.name, version, list(policies.values()), warnings=list(pack.warnings))
    unknown = sorted(set(given) - set(policies) - {"all"})
    if unknown:
        run.warnings.append(f"the policy config names {', '.join(unknown)}, which pack {info.name} does not have")
    config = reconcile(info, given)
    if remediate:
        remediable = _remediable(stub, config)
        for name in remediable:
            if config[name].level in ("advisory", "mandatory"):
                config[name].level = "remediate"
    request = analyzer_pb2.ConfigureAnalyzerRequest()
    for name, cfg in config.items():
        entry = request.policyConfig[name]
        if cfg.level:
            entry.enforcementLevel = LEVELS[cfg.level]
        if cfg.properties:
            json_format.ParseDict(cfg.properties, entry.properties)
    stub.Configure(request, timeout=RPC_TIMEOUT_S)

    finals: dict[str, dict[str, Any]] = {}
    for reg in registrations:
        props = analyzer_value(reg.get("wire") or {})
        changed = False
        request = analyzer_pb2.AnalyzeRequest(**_request(reg, props, providers))
        response = stub.Remediate(request, timeout=RPC_TIMEOUT_S)
        for remediation in response.remediations:
            if remediation.diagnostic:
                # The engine shows a remediation that could not run (an unknown in preview) as advisory.
                run.diagnostics.append(
                    _diagnostic_dict(
                        remediation.policyName,
                        "advisory",
                        reg["urn"],
                        remediation.diagnostic,
                        remediation.policyPackName,
                        None,
                        policies,
                    )
                )
            elif remediation.HasField("properties"):
                after = json_format.MessageToDict(remediation.properties)
                run.remediations.append(
                    {
                        "policy": remediation.policyName,
                        "urn": reg["urn"],
                        "name": reg["name"],
                        "type": reg["type"],
                        "changes": _changes(props, after),
                    }
                )
                props = after
                changed = True
        if changed:
            request = analyzer_pb2.AnalyzeRequest(**_request(reg, props, providers))
            if "inputs" in reg:
                reg["wire"] = props
                reg["inputs"] = wire_to_json(props)
        analysis = stub.Analyze(request, timeout=RPC_TIMEOUT_S)
        # The engine reports every diagnostic against the resource it analysed (step_generator.go).
        run.diagnostics.extend(_diagnostic(d, reg["urn"], policies) for d in analysis.diagnostics)
        finals[reg["urn"]] = props

    stack_request = analyzer_pb2.AnalyzeStackRequest()
    for reg in registrations:
        outputs = dict(state.get(reg["urn"], {}))
        outputs.update(finals[reg["urn"]] if reg.get("custom", True) else {})
        fields = _request(reg, outputs, providers)
        resource = stack_request.resources.add(
            type=fields["type"],
            urn=fields["urn"],
            name=fields["name"],
            parent=reg.get("parent") or "",
            dependencies=reg.get("dependencies") or [],
        )
        resource.properties.CopyFrom(fields["properties"])
        resource.options.CopyFrom(fields["options"])
        if "provider" in fields:
            resource.provider.CopyFrom(fields["provider"])
    stack = stub.AnalyzeStack(stack_request, timeout=RPC_TIMEOUT_S)
    run.diagnostics.extend(_diagnostic(d, d.urn, policies) for d in stack.diagnostics)
    if state and not set(state) & {r["urn"] for r in registrations}:
        run.warnings.append(
            f"none of the state file's resources belong to this program (stack {project.stack}, project "
            f"{project.name}): check --stack and the file"
        )
    return run


def _remediable(stub: Any, config: dict[str, PolicyConfig]) -> list[str]:
    """Which policies implement a remediation: the protocol has no field for it, so ask the pack as the engine
    would see it, with every policy at level remediate on an empty probe resource. pulumi_policy answers
    ``not_applicable`` with ``NO_REMEDIATION`` for a policy without one."""
    probe = analyzer_pb2.ConfigureAnalyzerRequest()
    for name, cfg in config.items():
        probe.policyConfig[name].enforcementLevel = analyzer_pb2.REMEDIATE
        if cfg.properties:
            json_format.ParseDict(cfg.properties, probe.policyConfig[name].properties)
    stub.Configure(probe, timeout=RPC_TIMEOUT_S)
    response = stub.Remediate(
        analyzer_pb2.AnalyzeRequest(type="rdsca:probe:Probe", urn="urn:pulumi:probe::probe::rdsca:probe:Probe::p"),
        timeout=RPC_TIMEOUT_S,
    )
    lacking = {n.policy_name for n in response.not_applicable if n.reason == NO_REMEDIATION}
    return [name for name in config if name not in lacking and name != "all"]
