"""Where in a company's product an article helps: its front matter's ``contexts``, matched by the widget.

A context is either a URL path glob of the product (``/settings/billing/**``: it starts with ``/``;
``*`` stays within one segment, ``**`` crosses them and ends a folder's glob that matches the folder too,
``{a,b}`` is either) or the name of a product area
that a page declares (``billing``). The in-product widget sends the page's path and areas; the articles
whose contexts match are the ones it offers first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from wcmatch import glob

GLOB_FLAGS = glob.GLOBSTAR | glob.BRACE
AREA = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
"""A product area's name, as front matter and the page declaring it write it."""
_PATH_GLOB = re.compile(r"^/[A-Za-z0-9\-._~/*?\[\]!{},%:@]*$")
_WILDCARDS = re.compile(r"[*?\[\]{}!]")


def context_problem(context: str) -> str | None:
    """Why ``context`` is neither a path glob nor an area name, or None when it is one."""
    if context.startswith("/"):
        if not _PATH_GLOB.match(context):
            return f"{context!r} is not a URL path glob: use letters, digits, - . _ ~ / and the wildcards * ** ? [ ] {{ , }}"
        return None
    if not AREA.match(context):
        return f"{context!r} is neither a URL path (starting with /) nor a product area (lowercase letters, digits, . _ -)"
    return None


def match_strength(contexts: Iterable[str], *, path: str | None, areas: frozenset[str]) -> int:
    """How specifically ``contexts`` name the page, 0 when none matches: a matching path glob's literal
    characters (``/settings/billing/invoices`` beats ``/settings/**``), a declared area's name's length."""
    best = 0
    for context in contexts:
        if context.startswith("/"):
            if path is not None and _path_matches(path, context):
                best = max(best, len(_WILDCARDS.sub("", context)))
        elif context in areas:
            best = max(best, len(context))
    return best


def _path_matches(path: str, pattern: str) -> bool:
    """``pattern`` matches ``path``; ``/settings/billing/**`` matches the folder itself too, ``/settings/billing``."""
    return glob.globmatch(path, pattern, flags=GLOB_FLAGS) or glob.globmatch(path.rstrip("/") + "/", pattern, flags=GLOB_FLAGS)
