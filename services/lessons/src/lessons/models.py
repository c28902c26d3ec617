"""Tables of the lessons schema (the domain tables arrive with the service's own issue)."""

from yanxiu.kit.db import service_metadata
from yanxiu.kit.tables import machinery_tables

SCHEMA = "lessons"
metadata = service_metadata(SCHEMA)
machinery = machinery_tables(metadata)
