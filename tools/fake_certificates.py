#!/usr/bin/env python3
"""Write the fake account's synthetic DescribeCertificates listings, one per region, from the real RDS CA bundle.

AWS publishes a recorded ``describe-certificates`` response for one region only (the aws-cli example for us-west-2,
``rdsca/aws/fake/data/describe-certificates.us-west-2.json``). For the other regions this script derives the same
shape from the root certificates in the public bundle (``tests/fixtures/rds-global-bundle-2024-06.pem``):
``Thumbprint`` is the SHA-1 of the root, ``ValidFrom``/``ValidTill`` its validity, exactly as in the recorded
example (``tests/aws/test_fake_fixtures.py`` checks that this script reproduces it for us-west-2). It reads the
bundle, never ``rdsca.catalog``, so the fake can disagree with the catalog.

    python tools/fake_certificates.py [--check]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes

ROOT = Path(__file__).resolve().parent.parent
BUNDLE = ROOT / "tests" / "fixtures" / "rds-global-bundle-2024-06.pem"
OUT = ROOT / "rdsca" / "aws" / "fake" / "data" / "describe-certificates.synthetic.json"

#: Root common names -> the CA identifier AWS gives them (RDS User Guide, "Certificate authorities" table).
G1 = re.compile(r"Amazon RDS (?P<region>[a-z]{2}(?:-[a-z]+)+-\d) Root CA (?P<family>RSA2048|RSA4096|ECC384) G1")
REGIONAL_2019 = re.compile(r"Amazon RDS (?P<region>[a-z]{2}(?:-[a-z]+)+-\d) 2019 CA")
GLOBAL_2019 = "Amazon RDS Root 2019 CA"
#: The order of the recorded example: ECC384, RSA4096, RSA2048, then the 2019 CA.
ORDER = {"ECC384": 0, "RSA4096": 1, "RSA2048": 2}


def _iso(value: object) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S+00:00")  # type: ignore[attr-defined]


def _entry(identifier: str, region: str, cert: x509.Certificate) -> dict[str, object]:
    return {
        "CertificateIdentifier": identifier,
        "CertificateType": "CA",
        "Thumbprint": cert.fingerprint(hashes.SHA1()).hex(),
        "ValidFrom": _iso(cert.not_valid_before_utc),
        "ValidTill": _iso(cert.not_valid_after_utc),
        "CertificateArn": f"arn:aws:rds:{region}::cert:{identifier}",
        "CustomerOverride": False,
    }


def listings(bundle: Path = BUNDLE) -> dict[str, list[dict[str, object]]]:
    certs = x509.load_pem_x509_certificates(bundle.read_bytes())
    names = {cert: cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value for cert in certs}
    root_2019 = next(cert for cert, name in names.items() if name == GLOBAL_2019)
    by_region: dict[str, list[tuple[int, dict[str, object]]]] = {}
    for cert, name in names.items():
        g1 = G1.fullmatch(str(name))
        if g1:
            family = g1["family"]
            identifier = f"rds-ca-{family.lower()}-g1"
            by_region.setdefault(g1["region"], []).append((ORDER[family], _entry(identifier, g1["region"], cert)))
        regional = REGIONAL_2019.fullmatch(str(name))
        if regional:
            # Regions served through the 2019 root list it as rds-ca-2019 (the root's dates, as recorded).
            region = regional["region"]
            by_region.setdefault(region, []).append((3, _entry("rds-ca-2019", region, root_2019)))
    return {
        region: [entry for _, entry in sorted(items, key=lambda i: i[0])] for region, items in sorted(by_region.items())
    }


def document() -> dict[str, object]:
    return {
        "provenance": "synthetic: derived by tools/fake_certificates.py from the public RDS global bundle "
        "(tests/fixtures/rds-global-bundle-2024-06.pem); not recorded from AWS and not read from rdsca.catalog",
        # AWS docs: "The default CA is set to rds-ca-rsa2048-g1" (RDS User Guide, "Setting the CA for your database").
        "DefaultCertificateForNewLaunches": "rds-ca-rsa2048-g1",
        "regions": {region: {"Certificates": certs} for region, certs in listings().items()},
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--check", action="store_true", help="Exit 1 if the committed file differs.")
    args = parser.parse_args()
    text = json.dumps(document(), indent=1) + "\n"
    if args.check:
        return 0 if OUT.read_text() == text else 1
    temporary = OUT.with_name(OUT.name + ".tmp")
    temporary.write_text(text)
    os.replace(temporary, OUT)  # never half-written
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
