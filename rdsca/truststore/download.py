"""The RDS CA bundles, from AWS's trust-store host (or a mirror given with --base-url)."""


import urllib.error
import urllib.request
from collections.abc import Callable

from rdsca import catalog
from rdsca.truststore.entries import TruststoreError

#: AWS publishes the commercial bundles here; GovCloud and China have hosts of their own
#: (``catalog.TRUSTSTORE_HOSTS``); a mirror can stand in with --base-url.
BASE_URL = catalog.TRUSTSTORE_HOSTS["aws"]
#: Bytes read at a time when progress is shown (the global bundle is about 160 KB).
_CHUNK = 16 * 1024


def base_url_for(region: str | None) -> str:
    """AWS's host for a region's bundle: its partition's (a GovCloud or China bundle is not on the commercial one)."""
    return catalog.TRUSTSTORE_HOSTS[catalog.partition_of(region)]


def is_aws_host(base_url: str) -> bool:
    return base_url.rstrip("/") in catalog.TRUSTSTORE_HOSTS.values()


def download(
    region: str | None = None, base_url: str | None = None, timeout: float = 30.0,
    progress: Callable[[int, int | None], None] | None = None,
) -> bytes:
    """The bundle's bytes; ``progress(bytes so far, Content-Length or None)`` after each chunk."""
    base_url = base_url or base_url_for(region)
    name = f"{region}/{region}-bundle.pem" if region else "global/global-bundle.pem"
    url = f"{base_url.rstrip('/')}/{name}"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            if progress is None:
                return bytes(response.read())
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            chunks: list[bytes] = []
            while chunk := response.read(_CHUNK):
                chunks.append(chunk)
                progress(sum(map(len, chunks)), total)
            return b"".join(chunks)
    except (urllib.error.URLError, OSError) as exc:
        raise TruststoreError(f"cannot download {url}: {exc}") from None
