"""Customer text: what free text (names, comments) may contain, and how it is quoted where
staff read it."""

from __future__ import annotations

import re
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


# Zero-width (non-)joiners: format characters, but part of emoji sequences (👨‍👩‍👧) and
# of Indic and Persian words; they cannot reorder text, so comments keep them.
_JOINERS = frozenset("\u200c\u200d")


def strip_control_characters(value: str) -> str:
    """`value` without control and format characters (bidi overrides and isolates, zero-width
    spaces, BOM, separators), keeping line breaks, tabs and joiners: for a comment, which is
    cleaned rather than refused (its rating's score must not be lost for it), and for an SMS
    reply, which cannot be refused."""
    return "".join(
        char
        for char in value
        if char in _LINE_BREAKS
        or char in _JOINERS
        or unicodedata.category(char) not in _REFUSED_CATEGORIES
    )


# Anything that reads as a link: a scheme, `www.`, or a dotted host name (`evil.example/x`).
_LINK = re.compile(
    r"(?i)\b(?:[a-z][a-z0-9+.-]*://|www\.)\S*|\b[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}\b(?:/\S*)?"
)
_SPACES = re.compile(r"\s+")


def quote_for_notification(value: str, limit: int) -> str:
    """Customer text as one quoted, inert line of at most `limit` characters (plus quotes),
    for messages staff read (SNS e-mail/SMS, chat): line breaks, control and format
    characters become spaces, so it cannot forge a line of its own ("OVERDUE: call ..."); a
    link loses its scheme and dots (`https://evil.example` -> `hxxps[:]//evil[.]example`), so no
    client makes it clickable; `<`, `>` and `&` (chat markup: `<url|text>`, `<!here>`) are
    replaced by look-alikes."""
    cleaned = "".join(
        " "
        if char not in _JOINERS
        and (unicodedata.category(char) in _REFUSED_CATEGORIES or char.isspace())
        else char
        for char in value
    )
    line = _SPACES.sub(" ", cleaned).strip()
    line = _LINK.sub(lambda match: _defang(match.group()), line)
    line = line.replace("&", "＆").replace("<", "‹").replace(">", "›")
    if len(line) > limit:
        line = line[: limit - 1].rstrip() + "…"
    return f"“{line}”"


def _defang(link: str) -> str:
    scheme, separator, rest = link.partition("://")
    if separator:
        link = scheme.lower().replace("http", "hxxp").replace("ftp", "fxp") + "[:]//" + rest
    return link.replace(".", "[.]")
