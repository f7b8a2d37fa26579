"""rdsca: get Amazon RDS, Aurora and DocumentDB fleets off retired CA certificates and keep them off.

``from rdsca import CertificateRotation, rotate_all`` gives the Pulumi component. It is imported lazily so that
the command-line tools that do not need the Pulumi SDK start fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["CertificateRotation", "RotationConfigError", "rotate_all"]

if TYPE_CHECKING:
    from rdsca.components import CertificateRotation, RotationConfigError, rotate_all


def __getattr__(name: str) -> Any:
    if name in __all__:
        import importlib.util

        if importlib.util.find_spec("pulumi_aws") is None or importlib.util.find_spec("pulumi") is None:
            raise ImportError(f"rdsca.{name} is the Pulumi component: it needs rdsca[pulumi] "
                              "(pip install 'rdsca[pulumi]')", name=name)
        from rdsca import components

        return getattr(components, name)
    raise AttributeError(f"module 'rdsca' has no attribute {name!r}")
