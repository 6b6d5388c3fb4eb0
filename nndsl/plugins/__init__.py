"""Plugin registries: every nameable thing in a .nn file comes from one."""

from .registry import KINDS, Registry, registry, reset

__all__ = ["KINDS", "Registry", "registry", "reset"]
