"""One error per rule of certificates."""

from __future__ import annotations

from yanxiu.kit.errors import Conflict, DomainError, NotFound


class CertificateNotFound(NotFound):
    code = "certificate_not_found"
    title_zh = "证书不存在"
    title_en = "Certificate not found"


class YearIncomplete(Conflict):
    code = "certificate_year_incomplete"
    title_zh = "尚未完成本年度继续教育学时，不能打印证书"
    title_en = "The year's continuing-education task is not complete"


class TeacherDetailsRequired(DomainError):
    status = 422
    code = "certificate_teacher_details_required"
    title_zh = "管理员代为打印证书时须指明教师（teacher_id）"
    title_en = "An administrator must name the teacher (teacher_id)"
