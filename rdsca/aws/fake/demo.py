"""The demo fleet: a small mixed set of databases in the fake account, for ``--demo`` and the examples."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rdsca import catalog
from rdsca.aws.fake.server import FakeAccount

DEMO_REGIONS = ("us-east-1", "eu-west-1")
DEMO_PASSWORD = "demo-password-1"


def seed_demo(account: FakeAccount, client: Callable[[str, str], Any]) -> None:
    """Retired, current, refused, DocumentDB, Neptune; ``client(service, region)`` makes a client for the fake."""

    def instance(region: str, name: str, engine: str, version: str, ca: str, **extra: Any) -> None:
        client("rds", region).create_db_instance(
            DBInstanceIdentifier=name,
            Engine=engine,
            EngineVersion=version,
            DBInstanceClass="db.m6g.large",
            AllocatedStorage=20,
            MasterUsername="admin",
            MasterUserPassword=DEMO_PASSWORD,
            CACertificateIdentifier=ca,
            **extra,
        )

    instance(
        "us-east-1", "billing-mysql", "mysql", "8.0.39", catalog.CA_2019, Tags=[{"Key": "team", "Value": "billing"}]
    )
    instance("us-east-1", "orders-postgres", "postgres", "16.4", catalog.RSA2048_G1)
    instance("us-east-1", "erp-sqlserver", "sqlserver-se", "15.00.4236.7.v1", catalog.ECC384_G1)
    instance("us-east-1", "graph-neptune", "neptune", "1.3.2.1", catalog.CA_2019)
    instance("eu-west-1", "reports-mariadb", "mariadb", "10.6.16", catalog.CA_2019)
    instance("eu-west-1", "search-postgres", "postgres", "13.4", catalog.RSA4096_G1)
    account.add_docdb("eu-west-1", "catalog-docdb-0", catalog.CA_2019)
    account.maintenance[account.arn("us-east-1", "orders-postgres")] = [
        {
            "Action": "server-certificate-rotation",
            "Description": "Server certificate rotation",
            "OptInStatus": "pending",
        }
    ]


#: moto's random seed for the demo organization (any fixed number: it only has to be the same on every run).
DEMO_SEED = 2019


def seed_demo_org(
    account: FakeAccount, client: Callable[[str, str], Any], client_in: Callable[[str, str, str], Any]
) -> list[str]:
    """An organization around the demo account with two member accounts, each with a database or two; one member
    has no OrganizationAccountAccessRole (as when an account joined by invitation). Returns the members' ids.
    ``client_in(account_id, service, region)`` makes a client with that account's assumed role."""
    account.seed_moto(DEMO_SEED)  # the same member account ids on every run
    org = client("organizations", "us-east-1")
    org.create_organization(FeatureSet="ALL")
    members = []
    for name in ("demo-payments", "demo-analytics"):
        created = org.create_account(Email=f"{name}@example.com", AccountName=name)["CreateAccountStatus"]
        members.append(created["AccountId"])
    payments, analytics = members
    rds = client_in(payments, "rds", "us-east-1")
    for name, engine, version, ca in (
        ("payments-postgres", "postgres", "16.4", catalog.CA_2019),
        ("ledger-oracle", "oracle-ee", "19.0.0.0.ru-2024-01.rur-2024-01.r1", catalog.RSA2048_G1),
    ):
        rds.create_db_instance(
            DBInstanceIdentifier=name, Engine=engine, EngineVersion=version, DBInstanceClass="db.m6g.large",
            AllocatedStorage=20, MasterUsername="admin", MasterUserPassword=DEMO_PASSWORD, CACertificateIdentifier=ca,
        )
    # Accounts that joined by invitation have no OrganizationAccountAccessRole until someone creates it.
    account.missing_roles.add((analytics, "OrganizationAccountAccessRole"))
    return members
