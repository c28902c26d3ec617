"""Learning's outbox, for code paths (consumers, other packages) that get no request
dependency: the same table and producer name as the runtime's own outbox."""

from __future__ import annotations

from learning.models import SCHEMA, metadata
from yanxiu.kit.outbox import Outbox

OUTBOX = Outbox(metadata.tables[f"{SCHEMA}.outbox"], producer="learning")
