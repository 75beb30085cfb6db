"""What every service's web front shares: Jinja2 templates with one base layout and one
header, and one static-files server with content-hashed URLs (see ``static``)."""

from .static import FOREVER, NO_CACHE, HashedStaticFiles, StaticFile, respond
from .templating import make_templates

__all__ = ["FOREVER", "NO_CACHE", "HashedStaticFiles", "StaticFile", "make_templates", "respond"]
