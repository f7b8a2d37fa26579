"""Answers to a program's data-source calls (invokes) when it runs offline under ``rdsca check``.

A data source asks the provider, and offline there is none. Each call is answered, in this order:

1. from the user's ``--invoke-answers`` file (``rdsca.runner.invoke_answers``);
2. from facts rdsca holds: ``aws.rds.get_engine_version`` from the catalog, ``aws.get_region`` from the region;
3. with a **placeholder** shaped by the data source's result type in the installed provider SDK (the generated
   ``Get...Result`` classes of pulumi-aws or any other provider package): every field present, lists of three,
   strings and numbers plausible and deterministic (the same call gets the same answer), AWS-aware where that is
   cheap and certain (the stack's region and its availability zones, partition and DNS suffix from botocore's
   partition data, EC2 id prefixes, a 12-digit placeholder account id). A field named like one of the call's
   arguments echoes it, as the AWS provider's data sources do (``get_vpc(default=True).default``).

Every placeholder answer is recorded so that ``rdsca check`` can say which values were invented.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import sys
import threading
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pulumi.runtime import mocks as pulumi_mocks

from rdsca import catalog, sdk_internals
from rdsca.resources import ENGINE_VERSION_INVOKE, REGION_INVOKE
from rdsca.runner.invoke_answers import Case, match

#: The account id AWS's own documentation uses in examples: plainly not a real account.
PLACEHOLDER_ACCOUNT = "123456789012"
#: How many elements a placeholder list has ("Each Region has at least three Availability Zones":
#: https://docs.aws.amazon.com/global-infrastructure/latest/regions/aws-availability-zones.html).
LIST_LENGTH = 3
#: Nested result types deeper than this get null (result types can nest, and a few refer to themselves).
MAX_DEPTH = 4
AZ_TOKEN = "aws:index/getAvailabilityZones:getAvailabilityZones"
CALLER_IDENTITY_TOKEN = "aws:index/getCallerIdentity:getCallerIdentity"
#: EC2 resource id prefixes (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/resource-ids.html), keyed by the
#: resource as a data source or an ``...Id`` field names it, lower case.
EC2_ID_PREFIX = {
    "ami": "ami", "image": "ami", "vpc": "vpc", "subnet": "subnet", "securitygroup": "sg", "instance": "i",
    "internetgateway": "igw", "natgateway": "nat", "routetable": "rtb", "mainroutetable": "rtb",
    "networkinterface": "eni", "networkacl": "acl", "keypair": "key", "ebsvolume": "vol", "volume": "vol",
    "ebssnapshot": "snap", "snapshot": "snap", "rootsnapshot": "snap", "vpcendpoint": "vpce", "eip": "eipalloc",
    "allocation": "eipalloc", "transitgateway": "tgw", "launchtemplate": "lt", "prefixlist": "pl",
    "dhcpoptions": "dopt", "customergateway": "cgw", "vpngateway": "vgw", "placementgroup": "pg",
}
#: Services whose ARNs carry no region (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html).
GLOBAL_SERVICES = frozenset({"iam", "organizations", "route53", "cloudfront", "s3", "waf"})


class _Missing:
    pass


_NONE = _Missing()


@dataclass(frozen=True)
class Call:
    """One data-source call: its token, its arguments (wire names, secrets unwrapped) and the stack's region."""

    token: str
    args: Mapping[str, Any]
    stack_region: str | None

    @property
    def package(self) -> str:
        return self.token.split(":", 1)[0]

    @property
    def service(self) -> str:
        return self.token.split(":")[1].split("/")[0] if self.token.count(":") == 2 else ""

    @property
    def function(self) -> str:
        return self.token.rsplit(":", 1)[-1]

    @property
    def region(self) -> str | None:
        region = self.args.get("region")
        return region if isinstance(region, str) and region else self.stack_region

    @functools.cached_property
    def digest(self) -> str:
        text = self.token + json.dumps(self.args, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()

    def hex_id(self, salt: str = "", length: int = 17) -> str:
        return hashlib.sha256((self.digest + salt).encode()).hexdigest()[:length]


# -- the result type of a data source ------------------------------------------------------------------------------


@functools.lru_cache(maxsize=512)
def result_type(token: str) -> type | None:
    """The ``Get...Result`` class the provider SDK builds this data source's answer into, or None.

    The SDK sends only the token; the class is named in the generated function that the program called, whose
    module is loaded by then: ``pulumi_aws/ec2/get_ami.py`` holds ``pulumi.runtime.invoke('aws:ec2/getAmi:getAmi',
    __args__, opts=opts, typ=GetAmiResult)``. The modules whose name is the function's (``get_ami``) are read for
    exactly that call.
    """
    if token.count(":") != 2:
        return None
    package = "pulumi_" + token.split(":", 1)[0].replace("-", "_")
    function = token.rsplit(":", 1)[-1].lower()
    call = re.compile(r"""invoke\w*\(\s*['"]""" + re.escape(token) + r"""['"][^)]*?\btyp=(\w+)""")
    for name, module in list(sys.modules.items()):
        in_package = name == package or name.startswith(package + ".")
        if not in_package or name.rsplit(".", 1)[-1].replace("_", "") != function:
            continue
        found = call.search(_source(getattr(module, "__file__", None)))
        cls = getattr(module, found.group(1), None) if found else None
        if sdk_internals.is_output_type(cls):
            return cls
    return None


def _source(path: str | None) -> str:
    try:
        return Path(path).read_text(encoding="utf-8") if path else ""
    except (OSError, UnicodeDecodeError):
        return ""


# -- placeholders --------------------------------------------------------------------------------------------------


def placeholder(call: Call) -> tuple[dict[str, Any], bool]:
    """A placeholder answer for ``call``, and whether the result type shaped it (False: ``{}``, every field null)."""
    cls = result_type(call.token)
    if cls is None:
        return {}, False
    return _object(call, cls, 0), True


def _object(call: Call, cls: type, depth: int) -> dict[str, Any]:
    answer = {}
    for wire, (_, hint) in sdk_internals.output_type_fields(cls).items():
        if depth == 0 and call.args.get(wire) is not None:
            answer[wire] = call.args[wire]  # the AWS provider's data sources echo their arguments
            continue
        answer[wire] = _value(call, wire, hint, depth, 0)
    return answer


def _value(call: Call, wire: str, hint: Any, depth: int, index: int) -> Any:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Union:
        members = [a for a in args if a is not type(None)]
        return _value(call, wire, members[0], depth, index) if members else None
    if sdk_internals.is_output_type(hint):
        return _object(call, hint, depth + 1) if depth < MAX_DEPTH else None
    if origin in (list, Sequence, typing.Sequence) or hint in (list, Sequence):
        item = args[0] if args else str
        return [_value(call, wire, item, depth, i) for i in range(LIST_LENGTH)]
    if origin in (dict, Mapping, typing.Mapping) or hint in (dict, Mapping):
        return {}
    if hint is bool:
        return False
    if hint is int:
        return 1
    if hint is float:
        return 1.0
    if hint is str:
        return _string(call, wire, depth, index)
    return None


def _string(call: Call, wire: str, depth: int, index: int) -> str:
    aws = _aws_string(call, wire, depth, index) if call.package == "aws" else _NONE
    if isinstance(aws, str):
        return aws
    return f"rdsca-placeholder-{call.hex_id(f'{wire}{index}', 10)}"


def _aws_string(call: Call, wire: str, depth: int, index: int) -> str | _Missing:
    region = call.region or "us-east-1"
    field = wire.lower()
    partition = _partition(region)
    if call.token == AZ_TOKEN and depth == 0:
        zones = {"names": f"{region}{'abc'[index]}", "zoneids": f"{_az_id_prefix(region)}-az{index + 1}"}
        if field in zones:
            return zones[field]
        if field == "groupnames":
            return region
    if field in ("accountid", "ownerid", "owneraccountid"):
        return PLACEHOLDER_ACCOUNT
    if field in ("region", "regionname"):
        return region
    if field == "partition":
        return partition["name"]
    if field == "dnssuffix":
        return partition["dnsSuffix"]
    if field == "reversednsprefix":
        return ".".join(reversed(partition["dnsSuffix"].split(".")))
    if field == "availabilityzone":
        return f"{region}a"
    if field == "state":
        return "available"
    if field in ("cidrblock", "cidr"):
        # A default VPC is always 172.31.0.0/16 (https://docs.aws.amazon.com/vpc/latest/userguide/default-vpc.html).
        return "172.31.0.0/16" if call.args.get("default") is True else "10.0.0.0/16"
    if field == "json" or field.endswith("policy"):
        return "{}"
    if field.endswith("arn"):
        if call.token == CALLER_IDENTITY_TOKEN:
            return f"arn:{partition['name']}:iam::{PLACEHOLDER_ACCOUNT}:user/rdsca-placeholder"
        return _arn(call, region, partition["name"], index)
    return _aws_id(call, field, depth, index)


def _aws_id(call: Call, field: str, depth: int, index: int) -> str | _Missing:
    """An EC2-style id with its real prefix (``vpc-0123...``): the data source's own id, or an ``...Id`` field."""
    if field in ("id", "ids") and depth == 0 and call.service == "ec2":
        stem = call.function.removeprefix("get").lower()
        stem = stem.removesuffix("ids") if stem.endswith("ids") else stem.removesuffix("s")
    elif field.endswith("ids"):
        stem = field.removesuffix("ids")
    elif field.endswith("id"):
        stem = field.removesuffix("id")
    else:
        return _NONE
    prefix = EC2_ID_PREFIX.get(stem)
    if prefix is None:
        return _NONE
    # The salt is the prefix, not the field: ``id`` and ``imageId`` of one AMI are the same id.
    return f"{prefix}-{call.hex_id(f'{prefix}{index}')}"


def _arn(call: Call, region: str, partition: str, index: int) -> str:
    service = call.service if call.service not in ("index", "") else "iam"
    where = "" if service in GLOBAL_SERVICES else region
    resource = call.function.removeprefix("get").lower() or "resource"
    name = f"rdsca-placeholder-{call.hex_id(str(index), 10)}"
    return f"arn:{partition}:{service}:{where}:{PLACEHOLDER_ACCOUNT}:{resource}/{name}"


@functools.lru_cache(maxsize=1)
def _partitions() -> list[dict[str, Any]]:
    """botocore's partition data: the region pattern, name and DNS suffix of every AWS partition."""
    import botocore

    path = Path(os.path.dirname(botocore.__file__), "data", "partitions.json")
    return list(json.loads(path.read_text(encoding="utf-8"))["partitions"])


def _partition(region: str) -> dict[str, str]:
    for partition in _partitions():
        if re.match(partition["regionRegex"], region):
            return {"name": partition["outputs"]["name"], "dnsSuffix": partition["outputs"]["dnsSuffix"]}
    return {"name": "aws", "dnsSuffix": "amazonaws.com"}


_DIRECTIONS = {"north": "n", "south": "s", "east": "e", "west": "w", "central": "c", "northeast": "ne",
               "northwest": "nw", "southeast": "se", "southwest": "sw", "gov": "g"}


def _az_id_prefix(region: str) -> str:
    """``usw2`` for us-west-2, ``apse2`` for ap-southeast-2: AZ IDs are ``<prefix>-az<n>`` (``use1-az1``)."""
    parts = region.split("-")
    return parts[0] + "".join(_DIRECTIONS.get(p, p[:1]) for p in parts[1:-1]) + parts[-1]


# -- the mocks -----------------------------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """Call arguments without the SDK's secret wrapping (for matching answers)."""
    if isinstance(value, dict):
        if value.get(sdk_internals.SIG_KEY) == sdk_internals.SECRET_SIG:
            return _plain(value.get("value"))
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _listed(call: Call, answer: Mapping[str, Any], shaped: bool) -> dict[str, Any]:
    """A placeholder answer as reports list it. The SDK unwraps secrets before it sends a data source its arguments
    (``pulumi.runtime.invoke``: ``_unwrap_rpc_secret_struct_properties``), so no argument can be told to be a
    secret here: the report names the arguments and the fields that echo them, and shows invented values only."""
    echoed = sorted(k for k in answer if k in call.args and answer[k] is call.args[k])
    return {
        "token": call.token,
        "args": sorted(call.args),
        "echoed": echoed,
        "result": {k: v for k, v in answer.items() if k not in echoed},
        "shaped": shaped,
    }


class OfflineMocks(pulumi_mocks.Mocks):
    """Answers data-source calls (see the module docstring) and records which answers were placeholders."""

    def __init__(self, region: str | None, answers: Mapping[str, list[Case]] | None = None) -> None:
        self.region = region
        self.answers = dict(answers or {})
        self.calls: list[str] = []
        self.placeholders: dict[str, dict[str, Any]] = {}
        self.from_file: set[str] = set()
        self._lock = threading.Lock()

    def call(self, args: pulumi_mocks.MockCallArgs) -> dict:  # type: ignore[override]
        call = Call(args.token, _plain(dict(args.args)), self.region)
        with self._lock:
            self.calls.append(args.token)
        case = match(self.answers[args.token], call.args) if args.token in self.answers else None
        if case is not None:
            with self._lock:
                self.from_file.add(args.token)
            return _to_wire(case.result, result_type(args.token))
        known = self._known(call)
        answer, shaped = placeholder(call)
        if known is not None:
            # Facts where rdsca has them, typed placeholders in every other field: a program passes fields such as
            # ``parameter_group_family`` to required inputs, and a None there failed the program.
            invented = {k: v for k, v in answer.items() if k not in known}
            answer = {**invented, **known}
            if not invented:
                return answer
            # Listed with the invented fields only; "partial": the fields rdsca judges by are facts, so no warning
            # says the answer was invented (the hint after a failed program still names it).
            listed = {**_listed(call, invented, shaped), "partial": True}
        else:
            listed = _listed(call, answer, shaped)
        with self._lock:
            self.placeholders.setdefault(json.dumps([call.token, call.digest]), listed)
        return answer

    def _known(self, call: Call) -> dict[str, Any] | None:
        if call.token == ENGINE_VERSION_INVOKE:
            engine, version = call.args.get("engine"), call.args.get("version")
            flag = catalog.rotation_flag(engine, version) if isinstance(engine, str) else None
            # Only AWS knows this flag for most versions: null rather than an invented placeholder, which would
            # decide whether the rotation restarts. (An UNKNOWN sentinel would make the typed result raise in the
            # SDK, and a sync call cannot be "unknown".)
            given = {k: v for k, v in {"engine": engine, "version": version, "versionActual": version}.items() if v}
            return {**given, "supportsCertificateRotationWithoutRestart": flag}
        if call.token == REGION_INVOKE and call.region:
            return {"name": call.region, "region": call.region, "id": call.region}
        return None

    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str | None, dict]:
        # Reads (``Resource.get``) return no state offline: every output stays unknown.
        return "", {}

    def report(self) -> dict[str, Any]:
        """What the host returns about data sources: every call, the placeholder answers, the file's answers."""
        return {
            "invokes": list(self.calls),
            "placeholder_answers": [self.placeholders[k] for k in sorted(self.placeholders)],
            "answered_from_file": sorted(self.from_file),
        }


def _to_wire(result: Mapping[str, Any], cls: type | None) -> dict[str, Any]:
    """A file's answer with Python field names (``account_id``) turned into wire names (``accountId``)."""
    if cls is None:
        return dict(result)
    by_python = {python: wire for wire, (python, _) in sdk_internals.output_type_fields(cls).items()}
    return {by_python.get(key, key): value for key, value in result.items()}
