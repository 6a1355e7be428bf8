"""Original files as they are offered for download: never with macros.

A submission keeps the bytes it was sent (its SHA-256 proves it), but a workbook with
macros (``.xlsm``, a ``vbaProject.bin`` part, an ``.xls`` with a VBA project) is not
handed to the next person as it is: ``for_download`` gives an ``.xlsx`` copy without
the macro parts, or nothing (with the reason) when the format cannot be cleaned.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass

_MACRO_PART = re.compile(r"(^|/)vbaProject\.bin$|(^|/)vbaProjectSignature\.bin$|(^|/)vbaData\.xml$", re.I)
_MACRO_CT = b"application/vnd.ms-excel.sheet.macroEnabled.main+xml"
_PLAIN_CT = b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
_VBA_REL = re.compile(rb'<Relationship\b[^>]*Target="[^"]*vba[^"]*"[^>]*/>', re.I)


@dataclass(frozen=True)
class Download:
    filename: str
    data: bytes | None  # None: not offered (``note`` says why)
    note: str = ""  # what was changed, for the page


def has_macros(filename: str, data: bytes) -> bool:
    if data.startswith(b"PK\x03\x04"):
        try:
            names = zipfile.ZipFile(io.BytesIO(data)).namelist()
        except (zipfile.BadZipFile, OSError, ValueError):
            return filename.lower().endswith((".xlsm", ".xlsb"))
        return any(_MACRO_PART.search(n) for n in names)
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        return "_VBA_PROJECT".encode("utf-16-le") in data or b"_VBA_PROJECT" in data
    return False


def without_macros(data: bytes) -> bytes:
    """An xlsx/xlsm package without its macro parts, its content type made plain."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if _MACRO_PART.search(info.filename):
                continue
            body = src.read(info.filename)
            if info.filename == "[Content_Types].xml":
                body = body.replace(_MACRO_CT, _PLAIN_CT)
                body = re.sub(rb'<(Default|Override)\b[^>]*vba[^>]*/>', b"", body, flags=re.I)
            elif info.filename.endswith(".rels"):
                body = _VBA_REL.sub(b"", body)
            dst.writestr(info, body)
    return out.getvalue()


def for_download(filename: str, data: bytes) -> Download:
    """What the Submissions and Audit pages offer for an original file."""
    if not has_macros(filename, data):
        return Download(filename, data)
    stem = re.sub(r"\.(xlsm|xlsb|xls|xlsx)$", "", filename, flags=re.I)
    if data.startswith(b"PK\x03\x04"):
        try:
            return Download(f"{stem}.xlsx", without_macros(data),
                            "The original holds macros: this copy has them removed.")
        except (zipfile.BadZipFile, OSError, ValueError, KeyError):
            pass
    return Download(filename, None, "The original holds macros and is not offered for download; "
                                    "export the stored data instead.")


__all__ = ["Download", "for_download", "has_macros", "without_macros"]


def download_name(filename: str, data: bytes) -> str:
    """A file name with an extension a spreadsheet program opens: a name without one gets
    ``.xlsx`` for a zip (an xlsx workbook) and ``.csv`` otherwise, spaces as ``-``."""
    if "." in filename.rsplit("/", 1)[-1]:
        return filename
    return filename.replace(" ", "-") + (".xlsx" if data[:2] == b"PK" else ".csv")
