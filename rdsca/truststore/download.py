"""The RDS CA bundles, from AWS's trust-store host (or a mirror given with --base-url)."""


import urllib.error
import urllib.request

from rdsca import catalog
from rdsca.truststore.entries import TruststoreError

#: AWS publishes the commercial bundles here; GovCloud and China have hosts of their own
#: (``catalog.TRUSTSTORE_HOSTS``); a mirror can stand in with --base-url.
BASE_URL = catalog.TRUSTSTORE_HOSTS["aws"]


def base_url_for(region: str | None) -> str:
    """AWS's host for a region's bundle: its partition's (a GovCloud or China bundle is not on the commercial one)."""
    return catalog.TRUSTSTORE_HOSTS[catalog.partition_of(region)]


def is_aws_host(base_url: str) -> bool:
    return base_url.rstrip("/") in catalog.TRUSTSTORE_HOSTS.values()


def download(region: str | None = None, base_url: str | None = None, timeout: float = 30.0) -> bytes:
    base_url = base_url or base_url_for(region)
    name = f"{region}/{region}-bundle.pem" if region else "global/global-bundle.pem"
    url = f"{base_url.rstrip('/')}/{name}"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return bytes(response.read())
    except (urllib.error.URLError, OSError) as exc:
        raise TruststoreError(f"cannot download {url}: {exc}") from None
