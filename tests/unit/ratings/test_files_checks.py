"""services/ratings/files/checks (pure): which uploads are PDFs that may be served, and
the reason given for each one that is not."""

from __future__ import annotations

import hashlib

import pytest

from harness.pdfs import attached_file_pdf, blank_pdf, encrypted_pdf, open_action_pdf
from services.ratings.files.checks import PdfRefused, check_pdf


def test_a_clean_pdf_gives_its_pages_size_and_sha256() -> None:
    data = blank_pdf(5)
    checked = check_pdf(data)
    assert (checked.pages, checked.bytes) == (5, len(data))
    assert checked.sha256 == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize(("data", "reason"), [
    (b"", "does not start with %PDF-"),
    (b"hello, world", "does not start with %PDF-"),
    (b"MZ\x90\x00" + blank_pdf(1), "does not start with %PDF-"),
    (b"  " + blank_pdf(1), "does not start with %PDF-"),
    (b"%PDF-1.7\nnot really", "not a readable PDF"),
    (blank_pdf(3)[:300], "not a readable PDF"),
    (encrypted_pdf(), "encrypted"),
    (open_action_pdf("/JavaScript", JS="app.alert(1)"), "JavaScript"),
    (open_action_pdf("/Launch", F="calc.exe"), "launch action"),
    (attached_file_pdf(), "attached files"),
], ids=["empty", "text", "exe", "leading-space", "junk", "truncated", "encrypted",
        "javascript", "launch", "attachment"])
def test_what_is_refused_and_why(data: bytes, reason: str) -> None:
    with pytest.raises(PdfRefused, match=reason):
        check_pdf(data)


def test_names_spelled_with_hex_escapes_are_found_too() -> None:
    """``/Java#53cript`` is ``/JavaScript`` to a reader: the byte search misses it, the walk
    of the parsed objects does not (pypdf rebuilds the moved cross-reference table)."""
    data = open_action_pdf("/JavaScript", JS="app.alert(1)")
    hidden = data.replace(b"/JavaScript", b"/Java#53cript").replace(b"/JS ", b"/J#53 ")
    assert b"/JavaScript" not in hidden and b"/JS " not in hidden
    with pytest.raises(PdfRefused, match="JavaScript"):
        check_pdf(hidden)


def test_the_words_in_a_clean_file_s_text_are_not_names() -> None:
    """Only PDF names count: a document about JavaScript is still a document."""
    data = blank_pdf(1) + b"% (JavaScript and JS and Launch)\n"
    assert check_pdf(data).pages == 1
