"""Which accounts a command works on, and the credentials for each: the caller's own, or an assumed role.

``--org`` lists the organization's accounts (Organizations ``ListAccounts``; only accounts whose ``State`` is
``ACTIVE``: ``Status`` is being retired by AWS on 2026-09-09, botocore's Account shape), ``--ou`` an organizational
unit and every unit below it (``ListAccountsForParent``, ``ListOrganizationalUnitsForParent``), ``--accounts`` a
list. The management account is left out of ``--org`` and ``--ou`` unless asked for. Every account other than the
caller's is reached through ``--role-name`` (``OrganizationAccountAccessRole``, the role Organizations creates in the
accounts it creates) with a session name that names rdsca and the operator.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rdsca.aws.scan import Target
from rdsca.aws.session import Aws, AwsError, RateLimiter, error_message, session_name

DEFAULT_ROLE = "OrganizationAccountAccessRole"
#: API calls per second per account, after a burst of as many (rdsca's choice: AWS publishes no RDS API rate).
DEFAULT_ACCOUNT_RATE = 20.0


@dataclass(frozen=True)
class Selection:
    org: bool = False
    ous: tuple[str, ...] = ()
    accounts: tuple[str, ...] = ()
    include_management: bool = False
    role_name: str = DEFAULT_ROLE
    external_id: str | None = None
    account_rate: float = DEFAULT_ACCOUNT_RATE

    @property
    def many(self) -> bool:
        return bool(self.org or self.ous or self.accounts)


def _active(account: dict[str, Any]) -> bool:
    state = account.get("State")
    return state == "ACTIVE" if state is not None else account.get("Status") == "ACTIVE"


def _pages(client: Any, operation: str, key: str, **kwargs: Any) -> list[dict[str, Any]]:
    return [item for page in client.get_paginator(operation).paginate(**kwargs) for item in page.get(key, [])]


def _under(org: Any, ou: str) -> list[dict[str, Any]]:
    """Accounts directly in ``ou`` and in every unit below it."""
    found = _pages(org, "list_accounts_for_parent", "Accounts", ParentId=ou)
    for child in _pages(org, "list_organizational_units_for_parent", "OrganizationalUnits", ParentId=ou):
        found += _under(org, child["Id"])
    return found


def _listed(aws: Aws, selection: Selection) -> list[dict[str, Any]]:
    org = aws.client("organizations", aws.default_region() or "us-east-1")
    try:
        management = org.describe_organization()["Organization"].get("MasterAccountId")
        if selection.org:
            found = _pages(org, "list_accounts", "Accounts")
        else:
            found = [a for ou in selection.ous for a in _under(org, ou)]
    except AwsError:
        raise
    except Exception as exc:
        raise AwsError(f"cannot list the organization's accounts ({error_message(exc)})") from None
    unique = {a["Id"]: a for a in found if _active(a)}
    if not selection.include_management:
        unique.pop(management, None)
    return [unique[i] for i in sorted(unique)]


def _limiter(selection: Selection) -> RateLimiter:
    return RateLimiter(selection.account_rate, burst=selection.account_rate)


def _own(aws: Aws, account: str, limiter: RateLimiter) -> Aws:
    """The caller's own credentials, with the account's rate limit (one session, one lock: boto3 sessions are not
    thread-safe to make clients from)."""
    own = Aws(aws.profile, aws.limits, aws.demo, limiter, account)
    own._session, own._lock, own._identity = aws.session(), aws._lock, aws._identity
    return own


def targets(aws: Aws, selection: Selection) -> list[Target]:
    """The accounts to work on with their credentials: one (the caller's) unless ``selection`` names several."""
    caller = aws.identity()
    if not selection.many:
        return [Target(caller["Account"], _own(aws, caller["Account"], _limiter(selection)))]
    listed = [{"Id": a} for a in dict.fromkeys(selection.accounts)] if selection.accounts else _listed(aws, selection)
    name = session_name(caller["Arn"])
    chosen = []
    for account in listed:
        limiter = _limiter(selection)
        if account["Id"] == caller["Account"]:
            chosen.append(Target(account["Id"], _own(aws, caller["Account"], limiter), account.get("Name")))
        else:
            other = aws.assume(account["Id"], selection.role_name, name, selection.external_id, limiter)
            chosen.append(Target(account["Id"], other, account.get("Name"), assumed=True))
    return chosen
