"""The parse worker's entry point (``rdsca.terraform.parallel`` starts it): apart from that module so that neither
imports the other's importer."""

from __future__ import annotations

from rdsca.terraform.config import parse_file
from rdsca.terraform.parallel import work


def main() -> None:
    work(parse_file)
