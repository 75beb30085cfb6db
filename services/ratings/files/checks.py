"""Is an upload a file that may be served? Pure: bytes in, pages (a PDF) or a length (an
MP4 video) out, or the reason not.

A PDF reader runs what a file carries: JavaScript (``/JS``, ``/JavaScript``), other
programs (``/Launch``) and attached files (``/EmbeddedFiles``). Nothing executable is ever
served, so a file with any of them is refused, as is an encrypted one (it cannot be
checked, and the viewer could not open it). The raw bytes are searched first for the long
names (cheap; a three-letter ``/JS`` would turn up by chance in compressed data); then
every object reachable from the document catalog is walked, which also finds names
inside compressed object streams.

An MP4 is only read, never run, by the browser's player; it is checked to be one (so that
what is served as ``video/mp4`` is a video) and for its length, which the watch figures
need. Its top-level ISO-BMFF boxes are walked (ISO/IEC 14496-12, 4.2): the first must be
``ftyp``, and ``moov`` must hold an ``mvhd`` box with the timescale and duration.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

__all__ = ["MAX_VIDEO_MS", "PDF_MAGIC", "CheckedPdf", "CheckedVideo", "FileRefused",
           "PdfRefused", "VideoRefused", "check_mp4", "check_pdf"]

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
#: The longest video accepted: 24 h, the most a watch event's duration_ms may say.
MAX_VIDEO_MS = 24 * 60 * 60 * 1000
#: Boxes walked at most on one level: a progressive MP4 has a handful at the top and a few
#: in moov; a fragmented one two per fragment (moof, mdat), so a 24 h video cut into 2 s
#: fragments has about 86,400. Every box is at least 8 bytes, so the walk always moves on.
_MAX_BOXES = 200_000


class FileRefused(ValueError):
    """Why a file is not accepted, in words for the uploader."""


class PdfRefused(FileRefused):
    """Why a PDF is not accepted."""


class VideoRefused(FileRefused):
    """Why an MP4 is not accepted."""


@dataclass(frozen=True)
class CheckedPdf:
    pages: int
    bytes: int
    sha256: str


@dataclass(frozen=True)
class CheckedVideo:
    duration_ms: int
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


def check_mp4(data: bytes) -> CheckedVideo:
    """The length, size and SHA-256 of ``data`` if it is an MP4 whose length is known and
    at most MAX_VIDEO_MS; else VideoRefused."""
    if len(data) < 8 or data[4:8] != b"ftyp":
        raise VideoRefused("not an MP4: it does not start with an ftyp box")
    top = list(_boxes(data, 0, len(data), None))
    moovs = [(start, end) for kind, start, end in top if kind == b"moov"]
    if not moovs:
        raise VideoRefused("not a playable MP4: it has no moov box")
    if len(moovs) > 1:
        raise VideoRefused("not a playable MP4: it has more than one moov box")
    start, end = moovs[0]
    mvhd = next(((s, e) for kind, s, e in _boxes(data, start, end, b"moov")
                 if kind == b"mvhd"), None)
    if mvhd is None:
        raise VideoRefused("not a playable MP4: its moov box holds no mvhd box")
    duration_ms = _duration_ms(data[mvhd[0]:mvhd[1]])
    return CheckedVideo(duration_ms=duration_ms, bytes=len(data),
                        sha256=hashlib.sha256(data).hexdigest())


def _boxes(data: bytes, start: int, end: int,
           container: bytes | None) -> Iterator[tuple[bytes, int, int]]:
    """The type, body start and body end of each box in ``data[start:end]``, the body of
    ``container`` (None: the file itself). A box is a 32-bit size (1: a 64-bit size follows
    the type; 0, at the top only: to the end of the file), then a 4-byte type."""
    where = "the file" if container is None else f"the {_name(container)} box"
    at, count = start, 0
    while at < end:
        count += 1
        if count > _MAX_BOXES:
            raise VideoRefused(f"not a playable MP4: {where} has too many boxes to check")
        if end - at < 8:
            raise VideoRefused(f"not a playable MP4: {where} ends inside a box header")
        size, kind = struct.unpack_from(">I4s", data, at)
        header = 8
        if size == 1:
            if end - at < 16:
                raise VideoRefused(f"not a playable MP4: {where} ends inside a box header")
            (size,) = struct.unpack_from(">Q", data, at + 8)
            header = 16
        name = _name(kind)
        if size == 0 and container is None:
            size = end - at
        elif size == 0:
            raise VideoRefused(f"not a playable MP4: the {name} box in {where} has size 0, "
                               "which only a box of the file itself may have")
        if size < header:
            raise VideoRefused(f"not a playable MP4: the {name} box in {where} says it is "
                               f"{size} bytes, less than its own header")
        if size > end - at:
            raise VideoRefused(f"not a playable MP4: the {name} box in {where} is truncated "
                               f"({size} bytes said, {end - at} there)")
        yield kind, at + header, at + size
        at += size


def _name(kind: bytes) -> str:
    """A box type as the uploader may read it: 'moov', or escapes for garbage bytes."""
    return repr(kind.decode("latin-1").encode("unicode_escape").decode())


def _duration_ms(mvhd: bytes) -> int:
    """The movie's length from its mvhd body: version and flags, then (version 0) creation
    and modification times, timescale and duration as u32, or (version 1) u64 times, u32
    timescale and u64 duration."""
    if not mvhd or mvhd[0] not in (0, 1):
        raise VideoRefused("not a playable MP4: its mvhd box has an unknown version")
    layout, needed = (">4xQQIQ", 32) if mvhd[0] == 1 else (">4xIIII", 20)
    if len(mvhd) < needed:
        raise VideoRefused("not a playable MP4: its mvhd box is too short")
    _, _, timescale, duration = struct.unpack_from(layout, mvhd)
    if timescale == 0:
        raise VideoRefused("not a playable MP4: its timescale is 0")
    duration_ms = (duration * 1000 + timescale // 2) // timescale
    if duration_ms <= 0:
        raise VideoRefused("the video's length is not known (its mvhd duration is 0; a "
                           "fragmented MP4 is not accepted)")
    if duration_ms > MAX_VIDEO_MS:
        raise VideoRefused("the video is longer than 24 hours, or its length is not known")
    return duration_ms
