"""Providers' domain errors, one per rule (rendered as problem+json by the kit)."""

from __future__ import annotations

# Defined by attainment, which refuses a future completion on every channel.
from learning.attainment.errors import CompletedInFuture as CompletedInFuture
from yanxiu.kit.errors import Conflict, DomainError, Forbidden, NotFound, Unauthorized


class ProviderNotFound(NotFound):
    code = "provider_not_found"
    title_zh = "第三方机构不存在"
    title_en = "Provider not found"


class ProviderCodeTaken(Conflict):
    code = "provider_code_taken"
    title_zh = "机构代码已被使用"
    title_en = "This provider code is already registered"


class ProviderKeyNotFound(NotFound):
    code = "provider_key_not_found"
    title_zh = "密钥不存在"
    title_en = "Provider key not found"


class TooManyActiveKeys(Conflict):
    code = "too_many_active_keys"
    title_zh = "有效密钥过多，请先吊销旧密钥"
    title_en = "Too many active keys: revoke an old one first"


class SecretsNotConfigured(DomainError):
    status = 503
    code = "provider_secrets_unconfigured"
    title_zh = "服务未配置密钥加密主密钥"
    title_en = "LEARNING_PROVIDER_SECRET_KEY is not configured"


# --- signature checks (401 unless the key is valid but for another provider) --------------
class SignatureMissing(Unauthorized):
    code = "signature_missing"
    title_zh = "缺少签名请求头"
    title_en = "Missing X-Provider-Key, X-Provider-Timestamp or X-Provider-Signature"


class SignatureMalformed(Unauthorized):
    code = "signature_malformed"
    title_zh = "签名请求头格式错误"
    title_en = "Malformed signature headers"


class SignatureExpired(Unauthorized):
    code = "signature_expired"
    title_zh = "签名时间戳超出允许窗口，请用当前时间重新签名"
    title_en = "Timestamp outside the replay window: sign again with the current time"


class SignatureInvalid(Unauthorized):
    code = "signature_invalid"
    title_zh = "签名不正确"
    title_en = "Signature does not match"


class SignatureReplayed(Unauthorized):
    code = "signature_replayed"
    title_zh = "该签名请求已被使用（重放），请重新签名"
    title_en = "This signed request was already used (replay): sign it afresh"


class KeyUnknown(Unauthorized):
    code = "key_unknown"
    title_zh = "密钥不存在"
    title_en = "Unknown key"


class KeyRevoked(Unauthorized):
    code = "key_revoked"
    title_zh = "密钥已吊销"
    title_en = "This key was revoked"


class KeyNotForProvider(Forbidden):
    code = "key_not_for_provider"
    title_zh = "该密钥不属于此机构"
    title_en = "This key belongs to another provider"


# --- completions ----------------------------------------------------------------------------
class EventIdReused(Conflict):
    code = "event_id_reused"
    title_zh = "事件编号已用于另一条不同的完成记录"
    title_en = "This event id was already used with a different body"


class CompletionEventNotFound(NotFound):
    code = "completion_event_not_found"
    title_zh = "该事件编号没有已记录的完成"
    title_en = "No recorded completion has this event id"


class LearnerNotRegistered(DomainError):
    status = 422
    code = "learner_not_registered"
    title_zh = "该教师未在此项目中报名（或不在本机构服务范围）"
    title_en = "The teacher has no active plan in this project for this provider"


class CourseUnresolvable(DomainError):
    status = 422
    code = "course_unresolvable"
    title_zh = "无法识别课程：请给出目录课程编号/代码，或标题、类别与学时"
    title_en = "Unknown course: give a catalogue id/code, or a title, category and hours"


class UnknownCategory(DomainError):
    status = 422
    code = "unknown_category"
    title_zh = "课程类别无效"
    title_en = "Unknown course category"


# --- xAPI (problem+json too; the LRS's status codes follow xAPI 1.0.3) ----------------------
class XapiVersionMissing(DomainError):
    status = 400
    code = "xapi_version_missing"
    title_zh = "缺少 X-Experience-API-Version 请求头"
    title_en = "The X-Experience-API-Version header is required"


class XapiVersionUnsupported(DomainError):
    status = 400
    code = "xapi_version_unsupported"
    title_zh = "不支持的 xAPI 版本（支持 1.0.x）"
    title_en = "Unsupported xAPI version (1.0.x is supported)"


class XapiStatementInvalid(DomainError):
    status = 400
    code = "xapi_statement_invalid"
    title_zh = "xAPI 语句格式不正确"
    title_en = "Malformed xAPI statement"


class XapiBadQuery(DomainError):
    status = 400
    code = "xapi_bad_query"
    title_zh = "xAPI 查询参数不正确"
    title_en = "Invalid xAPI query parameters"


class XapiStatementConflict(Conflict):
    code = "xapi_statement_conflict"
    title_zh = "该语句编号已存在且内容不同"
    title_en = "A different statement with this id already exists"


class XapiStatementNotFound(NotFound):
    code = "xapi_statement_not_found"
    title_zh = "语句不存在"
    title_en = "Statement not found"


class XapiCannotVoidVoiding(DomainError):
    status = 400
    code = "xapi_cannot_void_voiding_statement"
    title_zh = "作废语句不能被作废"
    title_en = "A voiding statement cannot be voided"


class XapiVoidForbidden(Forbidden):
    code = "xapi_void_forbidden"
    title_zh = "不能作废其他机构的语句"
    title_en = "You cannot void another provider's statement"


class XapiActorUnmapped(DomainError):
    status = 422
    code = "xapi_actor_unmapped"
    title_zh = "完成语句的 actor 须为教师账号（account.homePage 与教师编号）"
    title_en = "A completion statement's actor must be a teacher account (homePage + teacher id)"


class XapiProjectMissing(DomainError):
    status = 422
    code = "xapi_project_missing"
    title_zh = "完成语句须在 context 中给出项目编号（扩展或 registration）"
    title_en = "A completion statement needs the project id (context extension or registration)"


class XapiDocumentNotFound(NotFound):
    code = "xapi_document_not_found"
    title_zh = "文档不存在"
    title_en = "Document not found"


class XapiDocumentConflict(Conflict):
    code = "xapi_document_conflict"
    title_zh = "文档已存在：覆盖时须带 If-Match（或 If-None-Match）"
    title_en = "The document exists: send If-Match (or If-None-Match) to overwrite it"


class XapiDocumentPrecondition(DomainError):
    status = 412
    code = "xapi_document_precondition_failed"
    title_zh = "文档已被修改（ETag 不符）"
    title_en = "The document changed (ETag precondition failed)"


class XapiDocumentPreconditionMissing(DomainError):
    status = 400
    code = "xapi_document_precondition_missing"
    title_zh = "写入档案须带 If-Match 或 If-None-Match"
    title_en = "A profile PUT needs If-Match or If-None-Match"


class XapiContentTypeUnsupported(DomainError):
    status = 400
    code = "xapi_content_type_unsupported"
    title_zh = "语句须以 application/json 或 multipart/mixed 发送"
    title_en = "Statements are sent as application/json or multipart/mixed"


class XapiAttachmentInvalid(DomainError):
    status = 400
    code = "xapi_attachment_invalid"
    title_zh = "xAPI 附件不正确"
    title_en = "Malformed xAPI attachments"


class XapiSignatureInvalid(DomainError):
    status = 400
    code = "xapi_signature_invalid"
    title_zh = "签名语句的签名不正确"
    title_en = "The signed statement's signature is malformed or does not verify"


class XapiAlternateSyntaxInvalid(DomainError):
    status = 400
    code = "xapi_alternate_syntax_invalid"
    title_zh = "替代请求语法不正确"
    title_en = "Malformed alternate request syntax"


class XapiBodyTooLarge(DomainError):
    status = 413
    code = "xapi_body_too_large"
    title_zh = "请求体过大"
    title_en = "The request body is too large"


# --- xAPI account links (学员账号关联) ------------------------------------------------------
class XapiAgentInvalid(DomainError):
    status = 400
    code = "xapi_agent_invalid"
    title_zh = "学员标识不正确：须为只带一个标识（mbox、mbox_sha1sum、openid 或 account）的 Agent"
    title_en = "Malformed agent: an Agent with exactly one of mbox, mbox_sha1sum, openid, account"


class XapiLinkPlatformAccount(DomainError):
    status = 422
    code = "xapi_link_platform_account"
    title_zh = "平台教师账号本身即对应教师，无需关联"
    title_en = "A platform teacher account is its teacher already: it needs no link"


class XapiAccountLinkNotFound(NotFound):
    code = "xapi_account_link_not_found"
    title_zh = "该学员标识没有账号关联"
    title_en = "No account link for this agent"
