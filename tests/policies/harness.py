"""Drive policies through the policy SDK's own analyzer servicer, in process, with real protocol messages.

This is the code path the pack process runs for every gRPC call (``pulumi_policy.policy._PolicyAnalyzerServicer``:
proxies, unknown handling, enforcement levels, message format), without the socket. The protocol test and the
``rdsca check`` tests cover the real process and gRPC.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from google.protobuf import json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2 as pb
from pulumi_policy import EnforcementLevel, Policy
from pulumi_policy.policy import _PolicyAnalyzerServicer

from rdsca.policies import ALL_POLICIES

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # the engine's unknown-string sentinel
SECRET_SIG = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"}
LEVELS = {"advisory": pb.ADVISORY, "mandatory": pb.MANDATORY, "remediate": pb.REMEDIATE, "disabled": pb.DISABLED}
LEVEL_NAMES = {v: k for k, v in LEVELS.items()}

INSTANCE = "aws:rds/instance:Instance"
CLUSTER_INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
CLUSTER = "aws:rds/cluster:Cluster"
DOCDB_INSTANCE = "aws:docdb/clusterInstance:ClusterInstance"
NATIVE_INSTANCE = "aws-native:rds:DbInstance"
CERTIFICATE = "aws:rds/certificate:Certificate"


@dataclass(frozen=True)
class Diag:
    policy: str
    level: str
    message: str
    urn: str = ""


def _struct(props: Mapping[str, Any]) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    json_format.ParseDict(dict(props), message)
    return message


class Pack:
    """The servicer for ``policies`` (default: every rdsca policy), configured like the engine would."""

    def __init__(
        self,
        policies: Iterable[Policy] = ALL_POLICIES,
        config: Mapping[str, Mapping[str, Any]] | None = None,
        levels: Mapping[str, str] | None = None,
    ) -> None:
        self.servicer = _PolicyAnalyzerServicer("rdsca", "0.1.0", list(policies), EnforcementLevel.ADVISORY)
        request = pb.ConfigureAnalyzerRequest()
        names = set(config or {}) | set(levels or {})
        for name in names:
            entry = request.policyConfig[name]
            if levels and name in levels:
                entry.enforcementLevel = LEVELS[levels[name]]
            else:
                info = next(p for p in self.info().policies if p.name == name)
                entry.enforcementLevel = info.enforcementLevel  # the engine always sends the level
            if config and name in config:
                json_format.ParseDict(dict(config[name]), entry.properties)
        if names:
            self.servicer.Configure(request, None)

    def info(self) -> Any:
        return self.servicer.GetAnalyzerInfo(None, None)

    def request(
        self, type_: str, props: Mapping[str, Any], name: str = "db", provider_region: str | None = None
    ) -> pb.AnalyzeRequest:
        fields: dict[str, Any] = {
            "type": type_,
            "urn": f"urn:pulumi:dev::test::{type_}::{name}",
            "name": name,
            "properties": _struct(props),
        }
        if provider_region is not None:
            fields["provider"] = pb.AnalyzerProviderResource(
                type="pulumi:providers:aws",
                urn="urn:pulumi:dev::test::pulumi:providers:aws::p",
                name="p",
                properties=_struct({"region": provider_region}),
            )
        return pb.AnalyzeRequest(**fields)

    def analyze(self, type_: str, props: Mapping[str, Any], **kwargs: Any) -> list[Diag]:
        response = self.servicer.Analyze(self.request(type_, props, **kwargs), None)
        return [Diag(d.policyName, LEVEL_NAMES[d.enforcementLevel], d.message, d.urn) for d in response.diagnostics]

    def remediate(
        self, type_: str, props: Mapping[str, Any], strict: bool = True, **kwargs: Any
    ) -> tuple[dict[str, Any], list[str]]:
        """The properties after every remediation (as the engine applies them) and the policies that changed them.
        ``strict``: a preview note ("can't run remediation") fails the test."""
        response = self.servicer.Remediate(self.request(type_, props, **kwargs), None)
        result, changed = dict(props), []
        for remediation in response.remediations:
            if remediation.diagnostic:
                assert not strict, remediation.diagnostic
                assert "during preview" in remediation.diagnostic
                continue
            result = json_format.MessageToDict(remediation.properties)
            changed.append(remediation.policyName)
        return result, changed

    def analyze_stack(self, resources: Iterable[tuple[Any, ...]]) -> list[Diag]:
        """``resources``: ``(type, name, props)``, or ``(type, name, props, {property: [name of a resource]})`` for
        property dependencies (as the engine sends them, by URN)."""
        request = pb.AnalyzeStackRequest()
        listed = list(resources)
        urns = {entry[1]: f"urn:pulumi:dev::test::{entry[0]}::{entry[1]}" for entry in listed}
        for type_, name, props, *rest in listed:
            resource = request.resources.add(type=type_, urn=urns[name], name=name)
            resource.properties.CopyFrom(_struct(props))
            for key, names in (rest[0] if rest else {}).items():
                resource.propertyDependencies[key].urns.extend(urns[n] for n in names)
        response = self.servicer.AnalyzeStack(request, None)
        return [Diag(d.policyName, LEVEL_NAMES[d.enforcementLevel], d.message, d.urn) for d in response.diagnostics]


def failing(pack: Pack, policy: str, cases: Mapping[str, tuple[str, Mapping[str, Any]]]) -> set[str]:
    """The names of the cases on which ``policy`` reports a violation (preview notes excluded)."""
    return {
        name
        for name, (type_, props) in cases.items()
        if any(d.policy == policy and "during preview" not in d.message for d in pack.analyze(type_, props, name=name))
    }


#: One happy database per covered type: current CA, applied now, known engine and version.
HAPPY: dict[str, tuple[str, dict[str, Any]]] = {
    "instance": (INSTANCE, {"engine": "postgres", "engineVersion": "16.4", "caCertIdentifier": "rds-ca-rsa2048-g1",
                            "applyImmediately": True, "region": "us-west-2"}),
    "aurora-instance": (CLUSTER_INSTANCE, {"engine": "aurora-postgresql", "engineVersion": "16.4",
                                           "caCertIdentifier": "rds-ca-rsa2048-g1", "applyImmediately": True,
                                           "clusterIdentifier": UNKNOWN}),
    "multi-az-cluster": (CLUSTER, {"engine": "postgres", "engineVersion": "16.4",
                                   "caCertificateIdentifier": "rds-ca-rsa2048-g1", "applyImmediately": True}),
    "docdb-instance": (DOCDB_INSTANCE, {"caCertIdentifier": "rds-ca-rsa2048-g1", "applyImmediately": True,
                                        "clusterIdentifier": UNKNOWN}),
    "native-instance": (NATIVE_INSTANCE, {"engine": "mysql", "engineVersion": "8.0.39",
                                          "caCertificateIdentifier": "rds-ca-rsa2048-g1", "applyImmediately": True}),
    "account-default": (CERTIFICATE, {"certificateIdentifier": "rds-ca-rsa2048-g1"}),
}

#: The CA property of each covered type.
CA_PROPERTY = {
    INSTANCE: "caCertIdentifier",
    CLUSTER_INSTANCE: "caCertIdentifier",
    CLUSTER: "caCertificateIdentifier",
    DOCDB_INSTANCE: "caCertIdentifier",
    NATIVE_INSTANCE: "caCertificateIdentifier",
    CERTIFICATE: "certificateIdentifier",
}


def with_ca(ca: Any, types: Iterable[str] | None = None) -> dict[str, tuple[str, dict[str, Any]]]:
    """Every happy case (or those of ``types``) with its CA set to ``ca`` (``...`` removes it)."""
    cases = {}
    for name, (type_, props) in HAPPY.items():
        if types is not None and type_ not in types:
            continue
        changed = dict(props)
        if ca is ...:
            changed.pop(CA_PROPERTY[type_])
        else:
            changed[CA_PROPERTY[type_]] = ca
        cases[name] = (type_, changed)
    return cases
