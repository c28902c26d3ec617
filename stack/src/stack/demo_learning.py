"""Learning demo data (演示数据): the Shandong project runs under the Shandong 2023 rule set and
Hefei's under its IT 2.0 rule set, with windows moved around today so a demo teacher can select
and study at once, and a small catalogue: the ethics required course and a few electives, each
with a short assessment. Zhaoqing's project names "zhaoqing", which learning does not ship as a
learning rule set (Zhaoqing's rules are credits' caps): it runs without learning rules."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from learning.catalog import service as catalog
from learning.catalog.schemas import CourseCreate, Question
from learning.rules import service as rules
from learning.rules.catalogue import shipped
from learning.rules.ruleset import DateWindow
from learning.rules.schemas import ProjectRulesPut
from yanxiu.kit.auth import Principal

QUIZ = [
    Question(
        id="q1",
        text="教师职业道德的核心是？",
        options={"A": "爱岗敬业", "B": "升学率", "C": "论文数量"},
        answer="A",
    ),
    Question(
        id="q2",
        text="继续教育学时在哪里登记？",
        options={"A": "学分登记系统", "B": "纸质笔记", "C": "无需登记"},
        answer="A",
    ),
]
COURSES = [  # code, title, kind, scope, topic, hours, subjects
    ("DEMO-ETH-LAW", "教育法律法规（师德师风建设）", "required", "general", "ethics", "2.0", []),
    ("DEMO-CLS-01", "班级管理中的沟通艺术", "elective", "general", "class_management", "6.0", []),
    ("DEMO-PSY-01", "学生心理健康教育实务", "elective", "general", "mental_health", "6.0", []),
    ("DEMO-CHN-01", "小学语文整本书阅读教学", "elective", "subject", None, "8.0", ["语文"]),
    ("DEMO-MTH-01", "小学数学核心素养与单元教学", "elective", "subject", None, "8.0", ["数学"]),
]


def _around_today() -> DateWindow:
    today = date.today()
    return DateWindow(
        opens=(today - timedelta(days=7)).isoformat(),
        closes=(today + timedelta(days=60)).isoformat(),
    )


async def load_region_rules(
    session: AsyncSession,
    *,
    province: Principal,
    project_id: uuid.UUID,
    rule_set: str,
    year: int,
) -> None:
    """The project's named rule set, when learning ships it, with its windows around today."""
    shipped_set = shipped().get(rule_set)
    if shipped_set is None:
        return
    await rules.assign(
        session,
        actor=province,
        project_id=project_id,
        body=ProjectRulesPut(
            year=year,
            rule_set=rule_set,
            windows={w: _around_today() for w in shipped_set.windows},
        ),
    )


async def load_learning_demo(
    session: AsyncSession, *, province: Principal, project_id: uuid.UUID, year: int
) -> None:
    await load_region_rules(
        session, province=province, project_id=project_id, rule_set="shandong-2023", year=year
    )
    for code, title, kind, scope, topic, hours, subjects in COURSES:
        await catalog.create_course(
            session,
            actor=province,
            body=CourseCreate(
                code=code,
                title=title,
                kind=kind,
                scope=scope,
                topic_id=topic,
                hours=Decimal(hours),
                stages=["primary"],
                subjects=subjects,
                video_seconds=20 * 60,
                pass_mark=60,
                assessment=QUIZ,
            ),
        )
