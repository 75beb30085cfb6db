"""Ingest's web files: the page script at its fixed URL, and the templates of its pages."""

from __future__ import annotations

from shared.web import HashedStaticFiles, make_templates

__all__ = ["STATIC", "templates"]

#: ``/t.js`` is pasted unversioned into customers' pages: an hour's cache, then a cheap 304
#: on its ETag. (A ``?v=`` URL with the current hash is cached for good.)
STATIC = HashedStaticFiles.from_package("services.ingest", cache_control="public, max-age=3600")
templates = make_templates("services.ingest", STATIC)
