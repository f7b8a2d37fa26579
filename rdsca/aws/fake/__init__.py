"""A fake AWS for tests, benchmarks and ``--demo``: moto's server plus the RDS CA model moto lacks, many accounts."""

from __future__ import annotations

from rdsca.aws.fake.demo import DEMO_PASSWORD, DEMO_REGIONS, seed_demo
from rdsca.aws.fake.server import FakeAccount
from rdsca.aws.fake.state import DEFAULT_ACCOUNT, Database, DocDbInstance, Fault

__all__ = [
    "DEFAULT_ACCOUNT",
    "DEMO_PASSWORD",
    "DEMO_REGIONS",
    "Database",
    "DocDbInstance",
    "FakeAccount",
    "Fault",
    "seed_demo",
]
