"""Tables of the enrollment schema: org tree, teachers, projects, registrations."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    LargeBinary,
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from yanxiu.kit.db import service_metadata
from yanxiu.kit.tables import machinery_tables

SCHEMA = "enrollment"
metadata = service_metadata(SCHEMA)
machinery = machinery_tables(metadata)


class Base(DeclarativeBase):
    metadata = metadata


class Org(Base):
    """组织机构: a node of the province → city → county → school tree."""

    __tablename__ = "orgs"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("orgs.id"), index=True)
    level: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(100))
    province_id: Mapped[str] = mapped_column(String(40))
    city_id: Mapped[str | None] = mapped_column(String(40))
    county_id: Mapped[str | None] = mapped_column(String(40))

    # Two schools of one county may not share a name (admins pick schools by name).
    __table_args__ = (UniqueConstraint("parent_id", "name"),)


class Teacher(Base):
    """参训教师: a teacher's record, attributed to one school."""

    __tablename__ = "teachers"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(50))
    # 身份证号: AES-GCM ciphertext, plus a keyed blind index for uniqueness and lookups.
    id_number_cipher: Mapped[bytes] = mapped_column(LargeBinary)
    id_number_index: Mapped[str] = mapped_column(String(64), unique=True)
    gender: Mapped[str] = mapped_column(String(10))
    birth_date: Mapped[date] = mapped_column(Date)
    phone_cipher: Mapped[bytes | None] = mapped_column(LargeBinary)
    phone_index: Mapped[str | None] = mapped_column(String(64), index=True)
    stage: Mapped[str] = mapped_column(String(20))
    subject: Mapped[str] = mapped_column(String(40))
    is_rural: Mapped[bool]
    status: Mapped[str] = mapped_column(String(10), default="active")  # active 在职 / departed 离职
    verified: Mapped[bool] = mapped_column(default=False)
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    verified_by: Mapped[str | None] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
    province_id: Mapped[str] = mapped_column(String(40))
    city_id: Mapped[str] = mapped_column(String(40))
    county_id: Mapped[str] = mapped_column(String(40))
    school_id: Mapped[str] = mapped_column(ForeignKey("orgs.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        Index("ix_teachers_school", "school_id", "id"),
        Index("ix_teachers_county", "county_id", "id"),
        Index("ix_teachers_city", "city_id", "id"),
    )

    @property
    def org_path(self) -> list[str]:
        return [self.province_id, self.city_id, self.county_id, self.school_id]


class TeacherChange(Base):
    """教师信息变更记录: who changed a teacher record, when, and the fields before and after
    (personal data appears masked)."""

    __tablename__ = "teacher_changes"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    teacher_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("teachers.id"), index=True)
    action: Mapped[str] = mapped_column(String(30))
    changed_by: Mapped[str] = mapped_column(String(100))
    changed_by_role: Mapped[str | None] = mapped_column(String(20))
    changed_by_name: Mapped[str | None] = mapped_column(String(100))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONB)


class Project(Base):
    """培训项目: one yearly training project per stage of the org that runs it, with the date
    window (Asia/Shanghai dates, both ends inclusive) of each step of the registration cascade."""

    __tablename__ = "projects"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    year: Mapped[int]
    stage: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    # 项目归属: the province, or the city of a city-run programme (Zhaoqing's, Hefei's), that
    # runs the project: admins at or above it manage it, teachers inside it register. Its place
    # (province, and city when a city owns it) is kept beside it for listing by scope.
    owner_org_id: Mapped[str] = mapped_column(ForeignKey("orgs.id"))
    province_id: Mapped[str] = mapped_column(String(40))
    city_id: Mapped[str | None] = mapped_column(String(40))
    # The rule set the project names, e.g. "shandong-2023", "hefei-it2-2021", "zhaoqing":
    # learning and credits read it from the events (unknown until one is named).
    rule_set: Mapped[str | None] = mapped_column(String(40))
    # 1. 开放参训区域: the city admin opens participating counties.
    counties_open_from: Mapped[date] = mapped_column(Date)
    counties_open_until: Mapped[date] = mapped_column(Date)
    # 2. 开放参训单位: the county admin opens participating schools.
    schools_open_from: Mapped[date] = mapped_column(Date)
    schools_open_until: Mapped[date] = mapped_column(Date)
    # 3. 报名: the school admin registers teachers by subject.
    registration_opens_on: Mapped[date] = mapped_column(Date)
    registration_closes_on: Mapped[date] = mapped_column(Date)
    # 4. 提交培训报名管理任务: county, then city, check and submit.
    submission_opens_on: Mapped[date] = mapped_column(Date)
    submission_closes_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (UniqueConstraint("owner_org_id", "year", "stage"),)

    @property
    def owner_path(self) -> list[str]:
        """The owner's org path: [province] or [province, city]."""
        return [self.province_id, *([self.city_id] if self.city_id else [])]


class Registration(Base):
    """项目报名: a teacher registered in a project for exactly one subject."""

    __tablename__ = "registrations"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("projects.id"))
    teacher_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("teachers.id"))
    subject: Mapped[str] = mapped_column(String(40))
    city_id: Mapped[str] = mapped_column(String(40))
    county_id: Mapped[str] = mapped_column(String(40))
    school_id: Mapped[str] = mapped_column(String(40))
    registered_by: Mapped[str] = mapped_column(String(100))
    registered_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )

    __table_args__ = (
        UniqueConstraint("project_id", "teacher_id"),
        Index("ix_registrations_project_city", "project_id", "city_id", "id"),
        # Keyset pages of GET /projects/{id}/registrations, one index per filter.
        Index("ix_registrations_project_id", "project_id", "id"),
        Index("ix_registrations_project_county", "project_id", "county_id", "id"),
        Index("ix_registrations_project_school", "project_id", "school_id", "id"),
        Index("ix_registrations_project_subject", "project_id", "subject", "id"),
    )


class ProjectUnit(Base):
    """参训区域 / 参训单位: a county opened by its city admin, or a school opened by its county
    admin, for one project."""

    __tablename__ = "project_units"

    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("projects.id"), primary_key=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("orgs.id"), primary_key=True)
    level: Mapped[str] = mapped_column(String(10))  # county / school
    city_id: Mapped[str] = mapped_column(String(40))
    county_id: Mapped[str] = mapped_column(String(40))
    opened_by: Mapped[str] = mapped_column(String(100))
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        Index("ix_project_units_city", "project_id", "level", "city_id", "org_id"),
        Index("ix_project_units_county", "project_id", "level", "county_id", "org_id"),
    )


class UnitSubmission(Base):
    """提交培训报名管理任务: a county's or city's registration list, checked and submitted; from
    then on the list of that unit is locked."""

    __tablename__ = "unit_submissions"

    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("projects.id"), primary_key=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("orgs.id"), primary_key=True)
    level: Mapped[str] = mapped_column(String(10))  # county / city
    city_id: Mapped[str] = mapped_column(String(40))
    submitted_by: Mapped[str] = mapped_column(String(100))
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_unit_submissions_city", "project_id", "city_id", "org_id"),)


class Workshop(Base):
    """工作坊: a stage+subject workshop of a city or county (or a province topic workshop,
    专题工作坊) in one project; active once it has 3–6 hosts."""

    __tablename__ = "workshops"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("projects.id"))
    kind: Mapped[str] = mapped_column(String(10))  # subject / topic
    level: Mapped[str] = mapped_column(String(10))  # province / city / county
    org_id: Mapped[str] = mapped_column(ForeignKey("orgs.id"))
    province_id: Mapped[str] = mapped_column(String(40))
    city_id: Mapped[str | None] = mapped_column(String(40))
    county_id: Mapped[str | None] = mapped_column(String(40))
    stage: Mapped[str] = mapped_column(String(20))
    subject: Mapped[str | None] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(10), default="draft")  # draft / active
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        UniqueConstraint("project_id", "org_id", "name"),
        Index("ix_workshops_project", "project_id", "id"),
    )

    @property
    def org_path(self) -> list[str]:
        return [p for p in (self.province_id, self.city_id, self.county_id) if p]


class WorkshopHost(Base):
    """工作坊主持人: a workshop_host account hosting one workshop."""

    __tablename__ = "workshop_hosts"

    workshop_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workshops.id"), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))


class WorkshopMember(Base):
    """坊内学员: a registered teacher who joined the workshop of their subject."""

    __tablename__ = "workshop_members"

    workshop_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workshops.id"), primary_key=True)
    teacher_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("teachers.id"), primary_key=True)
    joined_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class WorkshopCase(Base):
    """案例: a case a teacher submitted in a workshop; recommended county → city → province,
    and possibly selected as exemplary (优秀案例) by the province."""

    __tablename__ = "workshop_cases"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    workshop_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workshops.id"))
    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("projects.id"))
    title: Mapped[str] = mapped_column(String(200))
    author_teacher_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("teachers.id"))
    submitted_by: Mapped[str] = mapped_column(String(100))
    origin_level: Mapped[str] = mapped_column(String(10))  # the workshop's level
    city_id: Mapped[str | None] = mapped_column(String(40))
    county_id: Mapped[str | None] = mapped_column(String(40))
    county_recommended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    city_recommended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    exemplary_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        Index("ix_workshop_cases_workshop", "workshop_id", "id"),
        Index("ix_workshop_cases_county", "project_id", "county_id"),
        Index("ix_workshop_cases_city", "project_id", "city_id"),
    )
