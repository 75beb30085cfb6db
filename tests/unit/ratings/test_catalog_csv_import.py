"""The catalog's CSV import (pure): every bad line reported, nothing imported."""

from __future__ import annotations

from services.ratings.catalog.csv_import import CsvRowError, parse_assets_csv


def test_csv_import_reports_every_bad_line_and_imports_nothing() -> None:
    text = ("id,title,type,url,owner_email\n"
            "good-one,Good,deck,https://example.com/a,a@example.com\n"
            "BAD,Bad,deck,https://example.com/b,b@example.com\n"
            "other,Other,poster,https://example.com/c,c@example.com\n")
    try:
        parse_assets_csv(text)
    except CsvRowError as exc:
        assert [e.split(":")[0] for e in exc.errors] == ["line 3", "line 4"]
    else:
        raise AssertionError("bad rows were accepted")
