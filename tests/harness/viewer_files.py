"""Files for the viewer's tests: a PDF whose pages say their number (so a screenshot shows
which page is where), or the 20 s test video (media/README.md), put in place as an upload
would leave it: its bytes in the file store, its row in ``asset_files``."""

from __future__ import annotations

import hashlib
from pathlib import Path

from devtools.settings import StackSettings
from harness.db import fetch
from shared.files import LocalFileStore

__all__ = ["STEELBLUE_MS", "numbered_pdf", "put_file", "steelblue_video"]

_MEDIA = Path(__file__).parent / "media"
#: The test video's length, as its mvhd box says.
STEELBLUE_MS = 20_000


def steelblue_video() -> bytes:
    """The bytes of media/steelblue-20s.mp4: 20 s, 160x90, H.264, moov first. (Not named
    test_*: a test module importing it would collect it as a test.)"""
    return (_MEDIA / "steelblue-20s.mp4").read_bytes()


def numbered_pdf(pages: int) -> bytes:
    """A valid PDF of ``pages`` A4 pages, each with a heading "Page N" and a few grey lines
    of "text" (Helvetica, a standard font: nothing embedded)."""
    kids = [4 + 2 * i for i in range(pages)]  # 1 catalog, 2 pages, 3 font; page, content
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Count %d /Kids [%s] >>"
               % (pages, b" ".join(b"%d 0 R" % k for k in kids)),
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    for n, kid in enumerate(kids, start=1):
        lines = "".join(f"0.8 g 72 {650 - 28 * i} {380 - 40 * (i % 3)} 12 re f\n"
                        for i in range(12))
        stream = (f"BT /F1 40 Tf 72 740 Td (Page {n}) Tj ET\n"
                  f"BT /F1 14 Tf 72 700 Td (Glassboard viewer test, page {n} of {pages}) Tj ET\n"
                  f"{lines}").encode()
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
                       b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % (kid + 1))
        objects.append(b"<< /Length %d >>\nstream\n%sendstream" % (len(stream), stream))
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += (f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\n"
            f"startxref\n{xref}\n%%EOF\n").encode()
    return bytes(out)


async def put_file(settings: StackSettings, asset_id: str, data: bytes, pages: int | None,
                   version: int = 1, filename: str | None = "sheet.pdf", *,
                   duration_ms: int | None = None) -> str:
    """``data`` as version ``version`` of the asset's file, a PDF of ``pages`` pages or,
    with ``duration_ms`` (and pages None), an MP4 video; its storage key."""
    video = duration_ms is not None
    content_type, extension = ("video/mp4", "mp4") if video else ("application/pdf", "pdf")
    sha = hashlib.sha256(data).hexdigest()
    key = f"assets/{asset_id}/{sha}.{extension}"
    await LocalFileStore(Path(settings.files_dir)).put(key, data, content_type)
    await fetch(settings,
                "INSERT INTO asset_files (asset_id, version, storage_key, content_type, bytes, "
                "pages, duration_ms, sha256, filename) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                asset_id, version, key, content_type, len(data), pages, duration_ms, sha,
                filename)
    return key
