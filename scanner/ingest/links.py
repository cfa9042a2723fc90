"""Which feed links may become hrefs: absolute http(s) URLs only, relative ones resolved.

A link from a feed is untrusted text. Browsers ignore leading and trailing spaces and
C0 controls in a URL and drop tabs and newlines anywhere in it, so `java<TAB>script:`
is `javascript:` to them; the scheme is therefore checked on the URL as a browser
would read it, case-insensitively. A relative link (`x`, `/a`, `example.com`, `//host/p`)
is resolved against the entry's `xml:base` (feedparser already applies it) or the
feed's URL. Anything that is not then an absolute http or https URL with a host is
no link at all: `safe_href` returns None and the caller shows text.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

#: Stripped from both ends, as a browser does (C0 controls and space).
_EDGE = "".join(chr(c) for c in range(0x21))
#: Removed anywhere: tab and newlines (browsers do), other controls, zero-width and
#: bidirectional formatting characters (never meaningful unencoded in a URL).
_INSIDE = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):")
SAFE_SCHEMES = ("http", "https")
MAX_HREF_CHARS = 2_048


def _absolute(url: str) -> str | None:
    """The URL when it is an absolute http(s) URL with a host, else None."""
    match = _SCHEME.match(url)
    if not match or match.group(1).lower() not in SAFE_SCHEMES:
        return None
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:  # a bad port or an unbalanced IPv6 bracket
        return None
    if not host:
        return None
    return match.group(1).lower() + url[len(match.group(1)):]


def safe_href(url: object, base: object = None) -> str | None:
    """An http(s) URL safe to put in an href, or None when the link must be shown as text.

    Args:
        url: the link as the feed gave it (any type: only strings can be links).
        base: what a relative link is resolved against (the entry's xml:base or the
            feed's URL); ignored unless itself an absolute http(s) URL.
    """
    if not isinstance(url, str):
        return None
    text = _INSIDE.sub("", url.strip(_EDGE)).replace(" ", "%20")
    if not text:
        return None
    if not _SCHEME.match(text):  # relative: resolve, or it is no link
        root = safe_href(base) if isinstance(base, str) and base != url else None
        if root is None:
            return None
        try:
            text = urljoin(root, text)
        except ValueError:
            return None
    absolute = _absolute(text)
    return absolute[:MAX_HREF_CHARS] if absolute else None
