"""The certificate PDF. Chinese text uses reportlab's built-in CID font STSong-Light (Adobe's
Chinese Simplified CMap ships with reportlab, so no font file is installed or embedded; PDF
readers supply the Song face)."""

from __future__ import annotations

import io

from reportlab.lib.pagesizes import A4, landscape  # type: ignore[import-untyped]
from reportlab.pdfbase import pdfmetrics  # type: ignore[import-untyped]
from reportlab.pdfbase.cidfonts import UnicodeCIDFont  # type: ignore[import-untyped]
from reportlab.pdfgen import canvas  # type: ignore[import-untyped]

from credits.certificates.categories import category_lines
from credits.certificates.models import Certificate

# reportlab ships no type stubs; its API here is four plain calls.
FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))


def render(cert: Certificate, *, verify_url: str) -> bytes:
    buf = io.BytesIO()
    width, height = landscape(A4)
    c = canvas.Canvas(buf, pagesize=(width, height))
    c.setTitle(f"继续教育证书 {cert.year}")
    c.setLineWidth(3)
    c.rect(30, 30, width - 60, height - 60)
    c.setFont(FONT, 36)
    c.drawCentredString(width / 2, height - 110, "继续教育证书")
    c.setFont(FONT, 16)
    y = height - 170
    lines = [
        f"{cert.teacher_name} 同志：",
        f"已完成 {cert.year} 年度中小学教师继续教育学时任务，共计 {cert.total_hours} 学时。",
    ]
    for category in category_lines(cert.region, cert.hours_by_category):
        lines.append(f"    {category.category_name}：{category.hours} 学时")
    lines += [
        "",
        f"证书编号：{cert.code}",
        f"验证地址：{verify_url}",
        f"发证日期：{cert.issued_at:%Y年%m月%d日}",
    ]
    for line in lines:
        c.drawString(90, y, line)
        y -= 28
    c.showPage()
    c.save()
    return buf.getvalue()
