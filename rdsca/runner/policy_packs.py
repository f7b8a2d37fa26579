"""Policy packs as ``rdsca check`` is given them: the pack directory, its policy config file, and what came back.

Everything here is read before the program runs (a mistake in a file stops the check at once) and needs neither
the Pulumi SDK nor grpc: the host process, which drives the packs, does (``rdsca.runner.pack_client``).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rdsca.errors import RdscaError, require
from rdsca.rules.config import LEVEL_NAMES, PolicyConfig, parse_config_file
from rdsca.runner.project import load_yaml

# The policy config file and its merging are the rules layer's, shared with the Terraform front end.
__all__ = ["LEVEL_NAMES", "PolicyConfig", "parse_config_file"]


class PolicyError(RdscaError):
    """A pack could not be loaded, started, configured or driven: the check stops (exit 2). ``report``: what the
    resources registered before the failure gave, when the run got that far."""

    def __init__(self, message: str, report: Any = None) -> None:
        super().__init__(message)
        self.report = report


class PolicyConfigInvalid(PolicyError):
    """A ``--policy-pack-config`` the pack's schema refuses: an error before anything runs (the Pulumi CLI
    configures every analyzer before the program starts), so no partial report is shown."""

    KIND = "policy-config"


def failure_kind(exc: BaseException) -> str:
    """The host's failure kind for a pack's error: ``policy-config`` for a refused config, else ``policy``."""
    return PolicyConfigInvalid.KIND if isinstance(exc, PolicyConfigInvalid) else "policy"


@dataclass(frozen=True)
class PackDirectory:
    directory: Path
    version: str | None
    python: str
    warnings: tuple[str, ...] = ()


def _interpreter(directory: Path, options: Any) -> tuple[str, list[str]]:
    """The python the CLI would run the pack with: the virtualenv ``PulumiPolicy.yaml`` names, when it exists."""
    venv = options.get("virtualenv") if isinstance(options, dict) else None
    if not isinstance(venv, str) or not venv:
        require("pulumi_policy", f"running the policy pack {directory} with rdsca's own interpreter")
        return sys.executable, []
    venv_dir = (directory / venv).resolve()
    candidate = venv_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    if not candidate.exists():
        # The CLI would create it and install requirements.txt; offline we use the interpreter running rdsca.
        warning = f"the pack's virtualenv {venv_dir} does not exist; running the pack with {sys.executable}"
        require("pulumi_policy", f"running the policy pack {directory} with rdsca's own interpreter")
        return sys.executable, [warning]
    if not candidate.is_file() or not os.access(candidate, os.X_OK):
        raise PolicyError(f"the pack's virtualenv python {candidate} is not an executable file")
    return str(candidate), []


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
    python, warnings = _interpreter(directory, options)
    version = doc.get("version")
    return PackDirectory(directory, str(version) if version is not None else None, python, tuple(warnings))


def with_remediation(given: dict[str, PolicyConfig]) -> dict[str, PolicyConfig]:
    """``--remediate``: the policy config ``{"all": "remediate"}`` under the given config (which wins). As in the CLI,
    a policy at level remediate that has no remediation blocks like a mandatory one when it fires."""
    merged = {"all": PolicyConfig("remediate", None)}
    for name, cfg in given.items():
        if name == "all":
            merged["all"] = PolicyConfig(cfg.level or "remediate", cfg.properties)
        else:
            merged[name] = cfg
    return merged


# -- what the packs answered ----------------------------------------------------------------------------------------


@dataclass
class PackRun:
    """One pack's identity and policies, as its ``GetAnalyzerInfo`` describes them."""

    name: str
    version: str
    policies: list[dict[str, Any]]
    blocked: bool = False


@dataclass
class PolicyResult:
    packs: list[PackRun]
    diagnostics: list[dict[str, Any]] = field(default_factory=list)
    remediations: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def blocked(self) -> bool:
        return any(d["level"] == "mandatory" for d in self.diagnostics)

    @property
    def pack(self) -> str:
        return ", ".join(p.name for p in self.packs)

    @property
    def version(self) -> str:
        return ", ".join(p.version for p in self.packs)

    @property
    def policies(self) -> list[dict[str, Any]]:
        return [policy for pack in self.packs for policy in pack.policies]

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> PolicyResult:
        packs = [PackRun(**p) for p in doc.get("packs", [])]
        result = cls(packs, doc.get("diagnostics", []), doc.get("remediations", []), doc.get("warnings", []))
        for pack in result.packs:
            pack.blocked = any(d["level"] == "mandatory" and d["pack"] == pack.name for d in result.diagnostics)
        return result
