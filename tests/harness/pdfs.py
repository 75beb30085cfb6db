"""PDFs made in the tests (pypdf writes blank pages), clean or carrying what the upload
checks refuse: JavaScript, a launch action, an attached file, encryption."""

from __future__ import annotations

import io

from pypdf import PdfWriter
from pypdf.generic import DictionaryObject, NameObject, TextStringObject

__all__ = ["attached_file_pdf", "blank_pdf", "encrypted_pdf", "open_action_pdf"]


def _writer(pages: int) -> PdfWriter:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(595, 842)  # A4, in points
    return writer


def _bytes(writer: PdfWriter) -> bytes:
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def blank_pdf(pages: int = 1, *, pad_to: int = 0) -> bytes:
    """A valid PDF of ``pages`` blank pages, padded with a comment to ``pad_to`` bytes
    (a comment after %%EOF is ignored by readers)."""
    data = _bytes(_writer(pages))
    return data + b"%" + b"x" * (pad_to - len(data) - 2) + b"\n" if pad_to > len(data) else data


def open_action_pdf(action: str, **entries: str) -> bytes:
    """A one-page PDF that runs ``action`` (``/JavaScript``, ``/Launch``) when opened."""
    writer = _writer(1)
    action_dict = DictionaryObject({NameObject("/S"): NameObject(action)})
    for key, value in entries.items():
        action_dict[NameObject(f"/{key}")] = TextStringObject(value)
    writer._root_object[NameObject("/OpenAction")] = action_dict
    return _bytes(writer)


def attached_file_pdf() -> bytes:
    writer = _writer(1)
    writer.add_attachment("setup.exe", b"MZ\x90\x00\x03")
    return _bytes(writer)


def encrypted_pdf() -> bytes:
    writer = _writer(2)
    writer.encrypt("secret")
    return _bytes(writer)
