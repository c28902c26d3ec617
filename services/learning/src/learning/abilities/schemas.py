"""Request and response models of IT 2.0 certification.

A material is a link (a web page, a cloud document) or a file already uploaded to the
platform's storage, given by its URL with its name, size and sha256: the platform stores
what the teacher points at, never the bytes."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from learning.abilities.models import CertificationStatus, ItemKind, Outcome
from learning.rules.ruleset import RoleCode

MAX_FILE_BYTES = 4 << 30  # a recorded class (课堂实录) may be large; 4 GiB is a generous bound
MAX_MATERIALS = 10
_URL_FORBIDDEN = frozenset(' \t\r\n\x00\\<>"{}|^`')


def _checked_url(url: str) -> str:
    """An absolute http(s) URL with a host and no credentials or whitespace in it."""
    if any(ch in _URL_FORBIDDEN or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
        raise ValueError("链接含有不允许的字符 (the URL has characters a URL may not carry)")
    try:
        parts = urlsplit(url)
        port = parts.port  # raises on a malformed port
    except ValueError as exc:
        raise ValueError("链接格式无效 (the URL is malformed)") from exc
    if parts.scheme not in ("http", "https"):
        raise ValueError("链接须以 http:// 或 https:// 开头 (only http and https URLs)")
    if not parts.hostname or len(parts.hostname) > 253:
        raise ValueError("链接缺少主机名 (the URL has no host)")
    if parts.username is not None or parts.password is not None:
        raise ValueError("链接不能包含用户名或密码 (the URL may not carry credentials)")
    if port == 0:
        raise ValueError("链接端口无效 (the URL's port is invalid)")
    return url


class Material(BaseModel):
    """认证材料: a link, or a file in the platform's storage (https, with name, size, sha256)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["link", "file"]
    url: str = Field(min_length=8, max_length=2000)
    name: str | None = Field(default=None, min_length=1, max_length=200)
    size: int | None = Field(default=None, ge=1, le=MAX_FILE_BYTES, description="bytes")
    sha256: str | None = Field(
        default=None, min_length=64, max_length=64, pattern=r"^[0-9a-fA-F]{64}$"
    )
    media_type: str | None = Field(
        default=None, max_length=100, pattern=r"^[A-Za-z0-9][\w.+-]*/[\w.+-]+$"
    )

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return _checked_url(value)

    @field_validator("sha256")
    @classmethod
    def _lower(cls, value: str | None) -> str | None:
        return value.lower() if value else value

    @model_validator(mode="after")
    def _file_is_described(self) -> Material:
        if self.kind == "file":
            if self.name is None or self.size is None or self.sha256 is None:
                raise ValueError(
                    "文件须给出 name、size 和 sha256 (a file needs name, size, sha256)"
                )
            if not self.url.startswith("https://"):
                raise ValueError("文件须为平台存储的 https 地址 (a file is an https storage URL)")
        return self


class CertificationSubmit(BaseModel):
    """提交认证材料: one ability point (`point`, e.g. "A3") or one task of the teacher's role
    (`task`, e.g. "personal_plan"). Resubmitting the same item makes a new attempt."""

    model_config = ConfigDict(extra="forbid")

    project_id: uuid.UUID
    item_kind: ItemKind
    item_code: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_]+$")
    description: str = Field(min_length=1, max_length=2000)
    materials: list[Material] = Field(min_length=1, max_length=MAX_MATERIALS)

    @field_validator("description")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("说明不能为空 (the description is blank)")
        return value


class AssessmentIn(BaseModel):
    """校本应用考核: pass, or send back for revision with comments. `attempt` is the attempt
    the assessor read: a newer submission is refused rather than judged unread."""

    model_config = ConfigDict(extra="forbid")

    attempt: int = Field(ge=1, le=100_000)
    outcome: Outcome
    comment: str | None = Field(default=None, max_length=1000)

    @model_validator(mode="after")
    def _revise_says_why(self) -> AssessmentIn:
        if self.outcome == "revise" and not (self.comment or "").strip():
            raise ValueError("退回修改须填写意见 (a revision needs a comment)")
        return self


class RolePut(BaseModel):
    """设置角色: the teacher's role in the project (school admin)."""

    model_config = ConfigDict(extra="forbid")

    project_id: uuid.UUID
    role: RoleCode


class RoleRead(BaseModel):
    teacher_id: uuid.UUID
    project_id: uuid.UUID
    role: str
    role_name: str
    assigned_by: str | None
    assigned_at: datetime | None


class AttemptRead(BaseModel):
    attempt: int
    description: str
    materials: list[Material]
    submitted_at: datetime


class AssessmentRead(BaseModel):
    attempt: int
    outcome: Outcome
    comment: str | None
    assessed_by: str
    assessed_at: datetime


class CertificationRead(BaseModel):
    id: uuid.UUID
    teacher_id: uuid.UUID
    project_id: uuid.UUID
    school_id: str
    item_kind: ItemKind
    item_code: str
    item_name: str
    # An ability point's credits under the project's rules (None for a task).
    credits: Decimal | None
    status: CertificationStatus
    attempt: int
    description: str
    materials: list[Material]
    submitted_at: datetime
    assessed_at: datetime | None
    comment: str | None


class CertificationDetail(CertificationRead):
    attempts: list[AttemptRead]
    assessments: list[AssessmentRead]


class PointRead(BaseModel):
    code: str
    name: str
    environment: str
    environment_name: str
    dimension: str
    dimension_name: str
    checked: bool
    credits: Decimal | None = None


class CatalogueRead(BaseModel):
    """微能力点目录; with a project, what each point is worth there and the credits required."""

    code: str
    name: str
    source: dict[str, str]
    min_credits: Decimal | None = None
    points: list[PointRead]


class TaskRead(BaseModel):
    code: str
    name: str
    bucket: str
    evidence: str
    status: CertificationStatus | Literal["not_submitted"]


class StandingRead(BaseModel):
    """A teacher's IT 2.0 standing in a project: role, its tasks, the ability credits."""

    teacher_id: uuid.UUID
    project_id: uuid.UUID
    role: str | None
    role_name: str | None
    tasks: list[TaskRead]
    points_passed: list[str]
    ability_credits: Decimal | None
    min_credits: Decimal | None
