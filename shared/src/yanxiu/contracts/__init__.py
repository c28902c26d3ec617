"""Event contracts: the envelope and one frozen model per event type and version.

Every event type is declared once, in the module of its producing service, and registered
in `registry.REGISTRY`; JSON Schema snapshots of each live in `schemas/` and a test fails on an
incompatible change.
"""

from yanxiu.contracts.envelope import Envelope, Event, OrgPath
from yanxiu.contracts.registry import REGISTRY, event_class

__all__ = ["REGISTRY", "Envelope", "Event", "OrgPath", "event_class"]
