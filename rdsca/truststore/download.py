"""The RDS CA bundles, from AWS's trust-store host (or a mirror given with --base-url)."""


import urllib.error
import urllib.request

from rdsca.truststore.entries import TruststoreError

#: AWS publishes the bundles here (RDS User Guide, "Using SSL/TLS to encrypt a connection to a DB instance or
#: cluster", certificate bundles); a mirror can stand in with --base-url.
BASE_URL = "https://truststore.pki.rds.amazonaws.com"


def download(region: str | None = None, base_url: str = BASE_URL, timeout: float = 30.0) -> bytes:
    name = f"{region}/{region}-bundle.pem" if region else "global/global-bundle.pem"
    url = f"{base_url.rstrip('/')}/{name}"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return bytes(response.read())
    except (urllib.error.URLError, OSError) as exc:
        raise TruststoreError(f"cannot download {url}: {exc}") from None
