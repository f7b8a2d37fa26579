"""One certificate of a trust store, classified: its RDS CA family, region and stage, or ``other``."""


import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from rdsca import catalog
from rdsca.chains import common_name
from rdsca.errors import RdscaError
from rdsca.truststore import aws_roots

OTHER = "other"

_G1_FAMILIES = {"RSA2048": catalog.RSA2048_G1, "RSA4096": catalog.RSA4096_G1, "ECC384": catalog.ECC384_G1}
_REGION = r"[a-z]{2}(?:-gov)?(?:-[a-z]+)+-\d"
_G1 = re.compile(
    rf"^Amazon RDS (?:(?P<stage>Beta|Preview) )?(?P<region>{_REGION}) Root CA (?P<fam>RSA2048|RSA4096|ECC384) G1$"
)
_2019_REGIONAL = re.compile(rf"^Amazon RDS (?:(?P<stage>Beta|Preview) )?(?P<region>{_REGION}) (?:2019 CA|Root CA|CA)$")
_2019_ROOT = re.compile(r"^Amazon RDS (?:(?P<stage>Beta|Preview) )?Root 2019 CA$")


class TruststoreError(RdscaError):
    """Unreadable input, a wrong password, or a store that cannot be written: exit 2, nothing overwritten."""


@dataclass(frozen=True)
class Entry:
    cert: x509.Certificate
    cn: str
    family: str
    region: str | None
    #: "beta" / "preview" for AWS's pre-release endpoints' roots, else None.
    stage: str | None
    root: bool
    key_type: str
    not_after: dt.datetime
    sha1: str
    #: False for a root whose name spells an RDS CA but whose key is not AWS's (``aws_roots``); True otherwise.
    aws_key: bool = True

    @property
    def impostor(self) -> bool:
        """A root named like an RDS root whose key is not one of AWS's: it proves nothing about AWS's CA."""
        return self.root and self.family != OTHER and not self.aws_key

    def days_left(self, today: dt.date) -> int:
        return (self.not_after.date() - today).days

    def expired(self, today: dt.date) -> bool:
        return self.not_after.date() <= today

    @property
    def alias(self) -> str:
        """The clean subject CN as an alias (lower case: JKS lower-cases aliases anyway)."""
        return re.sub(r"[^a-z0-9]+", "-", self.cn.lower()).strip("-") or self.sha1[:16]

    def to_json(self, today: dt.date) -> dict[str, Any]:
        return {
            "subject_cn": self.cn,
            "region": self.region,
            "stage": self.stage,
            "family": self.family,
            "kind": "root" if self.root else "intermediate",
            "key_type": self.key_type,
            "valid_until": self.not_after.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "days_left": self.days_left(today),
            "expired": self.expired(today),
            "sha1": self.sha1,
            "aws_key": self.aws_key,
        }


def _key_type(cert: x509.Certificate) -> str:
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        return f"RSA{key.key_size}"
    if isinstance(key, ec.EllipticCurvePublicKey):
        return f"EC {key.curve.name}"
    return type(key).__name__


def family_of(cn: str) -> tuple[str, str | None, str | None]:
    """(CA family, region, pre-release stage) that an RDS CA's common name spells; (``OTHER``, None, None) else."""
    if match := _G1.match(cn):
        return _G1_FAMILIES[match["fam"]], match["region"], match["stage"]
    if match := _2019_REGIONAL.match(cn) or _2019_ROOT.match(cn):
        return catalog.CA_2019, match.groupdict().get("region"), match["stage"]
    return OTHER, None, None


def classify(cert: x509.Certificate) -> Entry:
    cn = common_name(cert.subject)
    family, region, stage = family_of(cn)
    root = cert.subject == cert.issuer
    return Entry(
        cert=cert,
        cn=cn,
        family=family,
        region=region,
        stage=stage.lower() if stage else None,
        root=root,
        key_type=_key_type(cert),
        not_after=cert.not_valid_after_utc,
        sha1=cert.fingerprint(hashes.SHA1()).hex(),  # a thumbprint, as AWS lists them
        aws_key=not (root and family != OTHER) or aws_roots.is_aws(cert),
    )


def order(entries: Iterable[Entry]) -> list[Entry]:
    """A fixed order: family, region, root before intermediate, CN, thumbprint."""
    return sorted(entries, key=lambda e: (e.family, e.region or "", e.stage or "", not e.root, e.cn, e.sha1))
