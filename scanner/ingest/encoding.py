"""Chinese bytes under a UTF-8 label (pure).

A Chinese site that serves GBK (or GB2312, GB18030) while its XML declaration or HTTP
header says UTF-8, or says nothing (UTF-8 is XML's default), is common. feedparser then
falls back to windows-1252 and every Chinese title is stored as mojibake ("量子计算"
as "Á¿×Ó¼ÆËã") with status ok. A body that is not valid UTF-8 under such a label, but
is valid GB18030 and reads as Chinese, from a source configured as Chinese, is
re-encoded as UTF-8 before parsing, and the fetch row says so. The source's language is
required because EUC-KR and Shift-JIS bytes also decode as GB18030 (into the wrong
characters); any other mislabelled body is left to feedparser's own fallbacks.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_XML_DECLARATION = re.compile(rb"^(\s*<\?xml[^>]*?encoding\s*=\s*[\"'])([A-Za-z0-9._-]+)([\"'])",
                              re.IGNORECASE)
_CHARSET = re.compile(r"charset\s*=\s*([\"']?)([A-Za-z0-9._-]+)\1", re.IGNORECASE)
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]")
_UTF8 = {"utf-8", "utf8"}
#: Of the decoded text's non-ASCII characters, at least this share must be Chinese
#: characters or CJK punctuation for the GB18030 reading to be taken.
MIN_CJK_SHARE = 0.8


def declared_encodings(body: bytes, headers: Mapping[str, str]) -> set[str]:
    """The encodings the header and the XML declaration name (lower case; may be empty)."""
    out = set()
    match = _CHARSET.search(headers.get("content-type", "") or "")
    if match:
        out.add(match.group(2).lower())
    decl = _XML_DECLARATION.match(body[:200])
    if decl:
        out.add(decl.group(2).decode("ascii").lower())
    return out


def repair_gb_bytes(body: bytes, headers: Mapping[str, str], language: str | None
                    ) -> tuple[bytes, dict[str, str], str | None]:
    """(body, headers, note): a Chinese source's GB18030 body labelled UTF-8 (or
    unlabelled) as UTF-8 bytes with the labels corrected and a note for the fetch row;
    anything else unchanged."""
    if not (language or "").lower().startswith("zh"):
        return body, dict(headers), None
    try:
        body.decode("utf-8")
        return body, dict(headers), None
    except UnicodeDecodeError:
        pass
    if not declared_encodings(body, headers) <= _UTF8:
        return body, dict(headers), None  # labelled as something else: feedparser's call
    try:
        text = body.decode("gb18030")
    except UnicodeDecodeError:
        return body, dict(headers), None
    wide = [c for c in text if ord(c) > 127]
    if not wide or sum(bool(_CJK.match(c)) for c in wide) < MIN_CJK_SHARE * len(wide):
        return body, dict(headers), None
    fixed = _XML_DECLARATION.sub(rb"\1utf-8\3", text.encode("utf-8"), count=1)
    out = dict(headers)
    if "content-type" in out:
        out["content-type"] = _CHARSET.sub("charset=utf-8", out["content-type"])
    return fixed, out, ("the body is not UTF-8 as labelled but reads as Chinese in GB18030: "
                        "read as GB18030")
