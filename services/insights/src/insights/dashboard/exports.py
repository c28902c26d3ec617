"""The org table of a dashboard as an XLSX sheet (下级单位完成情况), as the page shows it."""

from __future__ import annotations

import asyncio
import io

from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.styles import Font  # type: ignore[import-untyped]

from insights.dashboard.schemas import OrgBreakdown, ProjectRead
from yanxiu.kit.spreadsheet import safe_row

COLUMNS = (
    "机构",
    "机构代码",
    "已报名",
    "计划生效",
    "已开始学习",
    "达到要求",
    "达标率",
    "学分已登记",
    "已发证书",
    "观评课已分配",
    "观评课已完成",
    "线下学时待审",
)


def _workbook(project: ProjectRead, table: OrgBreakdown) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "下级单位"
    sheet.append(safe_row([f"{project.name}（{project.year}）— {table.org.name} 下级单位完成情况"]))
    sheet["A1"].font = Font(bold=True)
    sheet.append(list(COLUMNS))
    for r in table.items:
        sheet.append(
            safe_row(
                [
                    r.name,
                    r.org_id,
                    r.registered,
                    r.plan_active,
                    r.started,
                    r.requirements_met,
                    r.met_rate,
                    r.credits_registered,
                    r.certificates_issued,
                    r.reviews_assigned,
                    r.reviews_done,
                    r.offline_waiting,
                ]
            )
        )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def org_table(project: ProjectRead, table: OrgBreakdown) -> bytes:
    """Built in a worker thread: openpyxl is CPU, and the event loop serves other requests."""
    return await asyncio.to_thread(_workbook, project, table)
