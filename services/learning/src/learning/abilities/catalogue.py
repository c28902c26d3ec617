"""微能力点: the ability-point catalogues shipped as data (learning/data/abilities/*.json).
Which catalogue a project uses and what each point is worth is the rule set's business
(`RuleSet.abilities`)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

_DIR = Path(__file__).resolve().parent.parent / "data" / "abilities"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Environment(_Frozen):
    """教学环境: 多媒体教学环境 (A), 混合学习环境 (B), 智慧学习环境 (C)."""

    code: str = Field(pattern=r"^[a-z]+$", max_length=20)
    letter: str = Field(pattern=r"^[A-Z]$")
    name: str = Field(max_length=50)


class Dimension(_Frozen):
    """维度: 学情分析, 教学设计, 学法指导, 学业评价."""

    code: str = Field(pattern=r"^[a-z]+$", max_length=20)
    name: str = Field(max_length=50)


class AbilityPoint(_Frozen):
    code: str = Field(pattern=r"^[A-Z][0-9]{1,2}$")
    environment: str
    dimension: str
    name: str = Field(max_length=100)
    # Confirmed against public material when the catalogue was written (see `source`).
    checked: bool = False


class Catalogue(_Frozen):
    code: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=60)
    name: str = Field(max_length=200)
    source: dict[str, str]
    environments: list[Environment] = Field(min_length=1)
    dimensions: list[Dimension] = Field(min_length=1)
    points: list[AbilityPoint] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Catalogue:
        letters = {e.code: e.letter for e in self.environments}
        dimensions = {d.code for d in self.dimensions}
        codes = [p.code for p in self.points]
        if len(set(codes)) != len(codes):
            raise ValueError("ability point codes must be unique")
        for p in self.points:
            if letters.get(p.environment) != p.code[0]:
                raise ValueError(f"{p.code}: its letter is not its environment's")
            if p.dimension not in dimensions:
                raise ValueError(f"{p.code}: unknown dimension {p.dimension}")
        return self

    def point(self, code: str) -> AbilityPoint | None:
        return next((p for p in self.points if p.code == code), None)


@cache
def catalogues() -> dict[str, Catalogue]:
    found = [
        Catalogue.model_validate(json.loads(p.read_text("utf-8"))) for p in _DIR.glob("*.json")
    ]
    return {c.code: c for c in sorted(found, key=lambda c: c.code)}
