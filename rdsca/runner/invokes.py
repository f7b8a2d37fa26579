"""Answers to a program's data-source calls (invokes) when it runs offline under ``rdsca check``."""

from __future__ import annotations

from pulumi.runtime import mocks as pulumi_mocks

from rdsca import catalog
from rdsca.resources import ENGINE_VERSION_INVOKE, REGION_INVOKE


class OfflineMocks(pulumi_mocks.Mocks):
    """Answers data-source calls from the catalog's facts; what it does not know comes back unknown."""

    def __init__(self, region: str | None) -> None:
        self.region = region
        self.calls: list[str] = []
        self.unanswered: list[str] = []

    def call(self, args: pulumi_mocks.MockCallArgs) -> dict:  # type: ignore[override]
        self.calls.append(args.token)
        if args.token == ENGINE_VERSION_INVOKE:
            engine = args.args.get("engine")
            version = args.args.get("version")
            flag = catalog.rotation_flag(engine, version) if isinstance(engine, str) else None
            answer = {"engine": engine, "version": version, "versionActual": version}
            # Only AWS knows this flag for most versions: leave it out (null) rather than invent it. (An UNKNOWN
            # sentinel would make the typed result raise in the SDK, and a sync call cannot be "unknown".)
            if flag is not None:
                answer["supportsCertificateRotationWithoutRestart"] = flag
            return answer
        if args.token == REGION_INVOKE:
            region = args.args.get("region") or self.region
            return {"name": region, "region": region, "id": region} if region else {}
        # Any other data source: nothing is known offline; every field of the answer is null.
        self.unanswered.append(args.token)
        return {}

    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str | None, dict]:
        # Reads (``Resource.get``) return no state offline: every output stays unknown.
        return "", {}
