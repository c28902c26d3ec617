"""Errors of bulk import and export, one per rule."""

from __future__ import annotations

from yanxiu.kit.errors import Conflict, DomainError


class ImportRejected(DomainError):
    """Carries `errors`: one entry per row and column, nothing was written."""

    status = 422
    code = "import_rejected"
    title_zh = "导入文件有错误，未导入任何数据"
    title_en = "The file has errors; nothing was imported"


class FileTooLarge(DomainError):
    status = 413
    code = "import_file_too_large"
    title_zh = "导入文件过大"
    title_en = "The import file is too large"


class UncompressedTooLarge(DomainError):
    status = 413
    code = "import_uncompressed_too_large"
    title_zh = "XLSX 文件解压后过大"
    title_en = "The XLSX file inflates too far"


class CompressionRatioTooHigh(DomainError):
    status = 413
    code = "import_compression_ratio_too_high"
    title_zh = "XLSX 文件压缩比异常，疑似压缩炸弹"
    title_en = "The XLSX file compresses like a zip bomb"


class TooManyRows(DomainError):
    status = 413
    code = "import_too_many_rows"
    title_zh = "导入文件行数过多"
    title_en = "The import file has too many rows"


class TooManyColumns(DomainError):
    status = 413
    code = "import_too_many_columns"
    title_zh = "导入文件列数过多"
    title_en = "The import file has too many columns"


class UnreadableFile(DomainError):
    status = 422
    code = "import_file_unreadable"
    title_zh = "无法读取导入文件（请上传 .xlsx 或 .csv 文件）"
    title_en = "Cannot read the file (upload an .xlsx or .csv file)"


class ImportRaced(Conflict):
    code = "import_raced"
    title_zh = "导入期间有相同身份证号的教师被登记，请重新导入"
    title_en = "A teacher with one of these ID numbers was added meanwhile; import again"
