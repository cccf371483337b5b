"""The file formats Potok reads and writes, known by a file's name or a media type."""

from __future__ import annotations

from enum import StrEnum


class FileFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self]


MEDIA_TYPES = {
    FileFormat.CSV: "text/csv",
    FileFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class UnknownFormat(ValueError):
    """Neither the name nor the media type says CSV or XLSX."""


def format_of(name_or_media_type: str) -> FileFormat:
    """The format a file name (by its extension) or a media type names."""
    text = name_or_media_type.split(";")[0].strip().lower()
    for fmt, media_type in MEDIA_TYPES.items():
        if text == media_type or text.endswith("." + fmt.value) or text == fmt.value:
            return fmt
    if text in ("application/csv", "text/plain"):
        return FileFormat.CSV
    raise UnknownFormat(
        f"'{name_or_media_type}' is neither CSV nor XLSX; name a .csv or .xlsx file "
        f"(media types {MEDIA_TYPES[FileFormat.CSV]} or {MEDIA_TYPES[FileFormat.XLSX]})"
    )
