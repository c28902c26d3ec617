"""The gateway's domain errors, one per rule."""

from __future__ import annotations

from yanxiu.kit.errors import Conflict, DomainError, NotFound, ServiceUnavailable, Unauthorized


class InvalidCredentials(Unauthorized):
    """Wrong password, unknown user, disabled or locked account: one answer for all, so that
    the response never tells which usernames exist."""

    code = "invalid_credentials"
    title_zh = "用户名或密码错误"
    title_en = "Wrong username or password"


class InvalidAccount(DomainError):
    status = 422
    code = "invalid_account"
    title_zh = "账号信息无效"
    title_en = "Invalid account data"


class UsernameTaken(Conflict):
    code = "username_taken"
    title_zh = "用户名已被使用"
    title_en = "The username is taken"


class UnknownService(NotFound):
    code = "unknown_service"
    title_zh = "服务不存在"
    title_en = "No such service"

    def __init__(self, service: str) -> None:
        super().__init__(f"服务 {service} 不存在", f"No service named {service}", service=service)


class UpstreamUnavailable(ServiceUnavailable):
    """The service did not answer (refused, reset or timed out)."""

    def __init__(self, service: str) -> None:
        super().__init__(
            f"{service} 服务暂不可用，请稍后重试",
            f"The {service} service is unavailable, please retry later",
            service=service,
        )


class RateLimited(DomainError):
    status = 429
    code = "rate_limited"
    title_zh = "请求过于频繁"
    title_en = "Too many requests"

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"请求过于频繁，请 {retry_after} 秒后重试",
            f"Too many requests, retry in {retry_after} s",
            retry_after=retry_after,
        )


class UnsupportedMediaType(DomainError):
    status = 415
    code = "unsupported_media_type"
    title_zh = "不支持的请求格式"
    title_en = "Unsupported media type"


class PayloadTooLarge(DomainError):
    status = 413
    code = "payload_too_large"
    title_zh = "请求内容过大"
    title_en = "Request body too large"
