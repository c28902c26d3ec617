"""Tables of the credits schema; each feature package declares its own on this metadata."""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from yanxiu.kit.db import service_metadata
from yanxiu.kit.tables import machinery_tables

SCHEMA = "credits"
metadata = service_metadata(SCHEMA)
machinery = machinery_tables(metadata)


class Base(DeclarativeBase):
    metadata = metadata


# Placed last: the feature packages import Base from this module.
from credits.certificates import models as _certificates  # noqa: E402
from credits.ledger import models as _ledger  # noqa: E402
from credits.records import models as _records  # noqa: E402

__all__ = ["Base", "_certificates", "_ledger", "_records"]
