"""Text on its way to a terminal: control characters are shown, never obeyed.

Answers, model replies and transcript files can hold escape sequences (a window title, a
cleared screen, a hyperlink that says one thing and opens another). A terminal acts on them;
printed through here they arrive as visible symbols instead. Stored text is never changed, only
what is printed.
"""

from __future__ import annotations

import re

# C0 controls but tab and newline, DEL, and the C1 controls (U+009B alone opens a sequence).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# In JSON text, C0 controls are always escaped by the encoder; DEL and C1 are not.
_JSON_RAW = re.compile(r"[\x7f-\x9f]")


def _shown(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)  # the Unicode control pictures: ESC shows as "␛"
    if code == 0x7F:
        return "\u2421"
    return f"<U+{code:04X}>"


def printable(text: str) -> str:
    """`text` with every control character but tab and newline replaced by a visible symbol."""
    return _CONTROL.sub(_shown, text)


def printable_json(text: str) -> str:
    """JSON text with the control characters its encoder left raw written as \\u escapes, so it
    stays the same JSON, meaning the same data, and is inert in a terminal."""
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
