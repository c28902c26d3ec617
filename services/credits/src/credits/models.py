"""Tables of the credits schema (the domain tables arrive with the service's own issue)."""

from yanxiu.kit.db import service_metadata
from yanxiu.kit.tables import machinery_tables

SCHEMA = "credits"
metadata = service_metadata(SCHEMA)
machinery = machinery_tables(metadata)
