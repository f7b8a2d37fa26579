"""The parse worker's entry point, ``python -m rdsca.terraform.parse_worker`` (``rdsca.terraform.parallel``): apart
from that module so that neither imports the other's importer."""

from __future__ import annotations

from rdsca.terraform.config import parse_file
from rdsca.terraform.parallel import work

if __name__ == "__main__":
    work(parse_file)
