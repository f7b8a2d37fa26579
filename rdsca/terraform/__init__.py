"""Terraform front end: reads configurations (``*.tf``, ``*.tf.json``) and plans (``terraform show -json``) into
resources with known values, unknowns with their reason, and source positions.

Pure and offline: no Terraform binary, no provider, no network. ``load_directory`` and ``load_plan`` are the entry
points; ``rdsca.terraform.check`` judges what they return.
"""

from __future__ import annotations

from rdsca.terraform.model import ConfigError, Resource

__all__ = ["ConfigError", "Resource"]
