"""Is an upload a PDF that may be served? Pure: bytes in, pages out, or the reason not.

A PDF reader runs what a file carries: JavaScript (``/JS``, ``/JavaScript``), other
programs (``/Launch``) and attached files (``/EmbeddedFiles``). Nothing executable is ever
served, so a file with any of them is refused, as is an encrypted one (it cannot be
checked, and the viewer could not open it). The raw bytes are searched first for the long
names (cheap; a three-letter ``/JS`` would turn up by chance in compressed data); then
every object reachable from the document catalog is walked, which also finds names
inside compressed object streams.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
from dataclasses import dataclass
from typing import Any

from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

__all__ = ["PDF_MAGIC", "CheckedPdf", "PdfRefused", "check_pdf"]

PDF_MAGIC = b"%PDF-"
#: PDF names that make a file executable or a carrier of other files.
_ACTIVE = frozenset({"/JS", "/JavaScript", "/Launch", "/EmbeddedFiles", "/EmbeddedFile",
                     "/RichMedia", "/XFA"})
#: A name token is ``/`` and characters up to a delimiter or white space.
_RAW_ACTIVE = re.compile(
    rb"/(?:JavaScript|Launch|EmbeddedFiles?|RichMedia)(?=[\s/<>\[\]()%{}]|$)")
# pypdf logs every repair it makes to a damaged upload; the refusal says enough.
logging.getLogger("pypdf").setLevel(logging.ERROR)
#: Objects walked at most: a real deck has a few thousand; past this it is refused.
_MAX_OBJECTS = 200_000


class PdfRefused(ValueError):
    """Why a file is not accepted, in words for the uploader."""


@dataclass(frozen=True)
class CheckedPdf:
    pages: int
    bytes: int
    sha256: str


def check_pdf(data: bytes) -> CheckedPdf:
    """The page count, size and SHA-256 of ``data`` if it is a PDF that may be served; else
    PdfRefused."""
    if not data.startswith(PDF_MAGIC):
        raise PdfRefused("not a PDF: it does not start with %PDF-")
    if _RAW_ACTIVE.search(data):
        raise PdfRefused("the PDF carries JavaScript, a launch action or attached files")
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise PdfRefused("the PDF is encrypted or password-protected")
        pages = len(reader.pages)
        _refuse_active(reader.trailer["/Root"])
    except PdfRefused:
        raise
    except Exception as exc:  # a hostile file may break the parser in any way: 422, not 500
        raise PdfRefused(f"not a readable PDF ({type(exc).__name__})") from None
    if pages < 1:
        raise PdfRefused("the PDF has no pages")
    return CheckedPdf(pages=pages, bytes=len(data), sha256=hashlib.sha256(data).hexdigest())


def _refuse_active(root: Any) -> None:
    """Walk every object reachable from ``root`` (without recursion: a hostile file can
    nest deeper than Python's stack)."""
    seen: set[tuple[int, int]] = set()
    stack: list[Any] = [root]
    walked = 0
    while stack:
        item = stack.pop()
        if isinstance(item, IndirectObject):
            ref = (item.idnum, item.generation)
            if ref in seen:
                continue
            seen.add(ref)
            item = item.get_object()
        walked += 1
        if walked > _MAX_OBJECTS:
            raise PdfRefused("the PDF has too many objects to check")
        if isinstance(item, DictionaryObject):
            for key, value in item.items():
                if key in _ACTIVE or (isinstance(value, NameObject) and value in _ACTIVE):
                    raise PdfRefused("the PDF carries JavaScript, a launch action or "
                                     "attached files")
                stack.append(value)
        elif isinstance(item, ArrayObject):
            stack.extend(item)
