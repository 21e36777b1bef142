"""Customer text: what free text (names, comments) may contain."""

from __future__ import annotations

import unicodedata

# Control (Cc), format (Cf: bidi overrides and isolates, zero-width characters, BOM),
# lone surrogates (Cs) and the line and paragraph separators (Zl, Zp).
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_LINE_BREAKS = frozenset("\n\t")


def refuse_control_characters(value: str, *, allow_newlines: bool = False) -> str:
    """Return `value` if it holds no control or format character, else raise ValueError
    naming the first one (as U+XXXX, never echoing the text: it may be PII).

    Refused: Unicode categories Cc (control), Cf (format: bidi overrides U+202A-U+202E and
    isolates U+2066-U+2069, zero-width U+200B-U+200F, U+FEFF), Cs (lone surrogates), Zl and
    Zp (line and paragraph separators). They let a name or a comment reorder or hide what
    staff read, or break the lines of a log, a CSV or a message it is quoted in.
    `allow_newlines=True` (comments: customers write paragraphs) lets `\\n` and `\\t`
    through, nothing else.
    """
    for char in value:
        if allow_newlines and char in _LINE_BREAKS:
            continue
        if unicodedata.category(char) in _REFUSED_CATEGORIES:
            raise ValueError(f"must not contain control or format characters (U+{ord(char):04X})")
    return value
