"""Why a refresh token or an access token is refused; clients answer each by signing in again."""

from __future__ import annotations

from yanxiu.kit.errors import Unauthorized


class InvalidRefreshToken(Unauthorized):
    """Unknown or lapsed: nothing about the token is revealed beyond that."""

    code = "invalid_refresh_token"
    title_zh = "刷新令牌无效或已过期"
    title_en = "The refresh token is invalid or has expired"


class RefreshTokenReused(Unauthorized):
    """A refresh token that was already exchanged came back: someone holds a copy, so the
    whole sign-in is ended, for the copy and for the original alike."""

    code = "refresh_token_reused"
    title_zh = "刷新令牌已被使用，本次登录已失效，请重新登录"
    title_en = "The refresh token was already used; this sign-in has ended, sign in again"


class SessionRevoked(Unauthorized):
    """The sign-in ended: logged out, revoked after a reuse, or the account was disabled,
    moved or given a new password."""

    code = "session_revoked"
    title_zh = "登录已失效，请重新登录"
    title_en = "This sign-in has ended, sign in again"


class TokenTooOld(Unauthorized):
    """Older than the gateway's access-token lifetime (signed before a shorter one was set)."""

    code = "token_expired"
    title_zh = "登录已过期，请重新登录"
    title_en = "Token expired"
