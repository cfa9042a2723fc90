"""How wide a chart's text is, estimated without a browser, and how to make it fit.

The estimate is deliberately on the wide side: per character, the advance width of the
widest common sans-serif faces (DejaVu Sans, the Linux fallback of `system-ui`, is wider
than Helvetica, Arial or Noto Sans), bold 13% wider, CJK and full-width characters one
em. Text laid out with it fits in every one of those fonts.
"""

from __future__ import annotations

#: Advance widths in em by character class (DejaVu Sans rounded up).
_NARROW = frozenset("ijlI!|.,:;'`·")  # 0.28-0.40 em
_THIN = frozenset("frt -()[]{}/\\\"*")  # 0.32-0.50 em
_WIDE = frozenset("mwMW@%…")  # up to 1.0 em
_SYMBOL = frozenset("+=<>~^#&")  # 0.84 em
BOLD = 1.13


def char_em(char: str) -> float:
    """The estimated advance width of one character, in em."""
    if char in _NARROW:
        return 0.40
    if char in _THIN:
        return 0.50
    if char in _WIDE:
        return 1.0
    if char in _SYMBOL:
        return 0.84
    code = ord(char)
    if code >= 0x2E80 or 0xFF00 <= code <= 0xFFEF:  # CJK, full-width forms
        return 1.0
    if char.isupper():
        return 0.80
    return 0.66


def text_width(text: str, size: float, bold: bool = False) -> float:
    """The estimated width in px of `text` at font size `size` (px)."""
    return sum(char_em(c) for c in text) * size * (BOLD if bold else 1.0)


def _pieces(text: str) -> list[str]:
    """Breakable pieces: words with their trailing space or hyphen, single CJK characters."""
    out: list[str] = []
    current = ""
    for char in text:
        current += char
        if char in " -/" or ord(char) >= 0x2E80:  # CJK: a break after every character
            out.append(current)
            current = ""
    if current:
        out.append(current)
    return out


def ellipsize(text: str, size: float, room: float, bold: bool = False) -> str:
    """`text`, cut and ended with '…' when it is wider than `room`."""
    if text_width(text, size, bold) <= room:
        return text
    while text and text_width(text.rstrip() + "…", size, bold) > room:
        text = text[:-1]
    return text.rstrip(" -/·") + "…" if text else ""


def wrap(text: str, size: float, rooms: list[float], bold: bool = False) -> list[str]:
    """`text` in at most len(rooms) lines, line i no wider than rooms[i]; broken after a
    space, hyphen or slash or between CJK characters, and the last line ellipsized when
    the text does not end there."""
    lines: list[str] = []
    pieces = _pieces(text)
    for n, room in enumerate(rooms):
        line = ""
        while pieces and text_width((line + pieces[0]).rstrip(), size, bold) <= room:
            line += pieces.pop(0)
        if not line and pieces:  # one piece wider than the line: cut it
            line, pieces = ellipsize(pieces.pop(0), size, room, bold), []
        if pieces and n == len(rooms) - 1:
            line = ellipsize(line.rstrip() + " " + "".join(pieces), size, room, bold)
            pieces = []
        if line.strip():
            lines.append(line.rstrip())
        if not pieces:
            break
    return lines
