"""The rule sets shipped with the platform (learning/data/rulesets/*.json)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from learning.rules.ruleset import RuleSet

_DIR = Path(__file__).resolve().parent.parent / "data" / "rulesets"


@cache
def shipped() -> dict[str, RuleSet]:
    sets = [RuleSet.model_validate(json.loads(p.read_text("utf-8"))) for p in _DIR.glob("*.json")]
    return {s.code: s for s in sorted(sets, key=lambda s: s.code)}
