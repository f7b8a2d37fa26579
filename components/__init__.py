"""Pulumi components of rdsca (installed as ``rdsca.components``)."""

from rdsca.components.rotation import CertificateRotation, RotationArgs, RotationConfigError, rotate_all

__all__ = ["CertificateRotation", "RotationArgs", "RotationConfigError", "rotate_all"]
