"""Allocation's and reviews' domain errors, one per rule."""

from __future__ import annotations

from yanxiu.kit.errors import Conflict, DomainError, NotFound


class NoReviewers(DomainError):
    status = 422
    code = "no_reviewers"
    title_zh = "该项目还没有报名教师，无法分配观评课"
    title_en = "No registered teachers in this project to allocate reviews to"


class RunNotFound(NotFound):
    code = "allocation_run_not_found"
    title_zh = "分配批次不存在"
    title_en = "Allocation run not found"


class AssignmentNotFound(NotFound):
    code = "assignment_not_found"
    title_zh = "观评课任务不存在或不属于你"
    title_en = "No such review assignment of yours"


class AlreadyReviewed(Conflict):
    code = "already_reviewed"
    title_zh = "该观评课任务已提交评课"
    title_en = "This assignment has been reviewed already"


class ReviewerDeparted(Conflict):
    """离职: a teacher in the departed pool neither reviews nor flags, not even the lessons
    assigned before they left, until a school takes them in (what they did before stands)."""

    code = "reviewer_departed"
    title_zh = "你已离职（在离职教师库中），不能提交评课或标记课例；调入新学校后恢复"
    title_en = (
        "You have left your school (departed pool): no review or flag counts until a school "
        "takes you in"
    )


class ReviewerWithdrawn(Conflict):
    """退出项目: a teacher whose registration was withdrawn reviews nothing more in that
    project; a review would count in the lesson's scores but never in the teacher's hours."""

    code = "reviewer_withdrawn"
    title_zh = "你已退出该培训项目，不能再提交评课或标记课例"
    title_en = "Your registration in this project was withdrawn: no more reviews or flags"


class ReviewerNotFound(NotFound):
    """A departed reviewer is no longer the business of the school they left (as learning's
    plans): its admin is answered as for a teacher it never had."""

    code = "reviewer_not_found"
    title_zh = "该教师不在你的管理范围内"
    title_en = "No such reviewer in your scope"


class RubricInvalid(DomainError):
    status = 422
    code = "rubric_invalid"
    title_zh = "评分项或分值不符合评课量表"
    title_en = "Scores do not match the review rubric"


class ReviewNotFound(NotFound):
    code = "review_not_found"
    title_zh = "评课记录不存在"
    title_en = "Review not found"


class ReviewRevokedAlready(Conflict):
    code = "review_revoked_already"
    title_zh = "该评课已作废"
    title_en = "This review has been revoked already"


class NotAssignedLesson(DomainError):
    status = 403
    code = "lesson_not_assigned"
    title_zh = "只能标记分配给你的课例"
    title_en = "You can flag only lessons assigned to you"


class AlreadyFlagged(Conflict):
    code = "already_flagged"
    title_zh = "你已标记过该课例"
    title_en = "You have flagged this lesson already"
