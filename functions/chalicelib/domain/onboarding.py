"""Bulk onboarding: a CSV of stores and their people read into rows, each a store ready to
create (with the e-mails to invite) or an error naming its line and what is wrong.

The CSV is what a spreadsheet exports (Excel's quoting, a UTF-8 byte order mark, `;` or tab
instead of `,` where the locale makes Excel write that), with the header

    store_id,name,timezone,country,region,opening_hours,staff_emails,manager_emails

in any order. Lines are the file's physical lines, the header being line 1: a quoted cell
that holds a line break makes a record span several lines, and its number is its first.
A request carries part of a file (the header, then some records): `first_line` says which
line of the file its first record after the header is, so that errors name the file's lines.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

import phonenumbers
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from .people import EMAIL
from .survey import DEFAULT_SURVEY, Store, Survey

COLUMNS = (
    "store_id",
    "name",
    "timezone",
    "country",
    "region",
    "opening_hours",
    "staff_emails",
    "manager_emails",
)
# One request must finish inside API Gateway's 29 s: a store is one or two DynamoDB calls,
# an e-mail a few Cognito admin calls (~0.1 s each in AWS), so 50 stores and 50 e-mails
# take some 20 s at worst. A bigger file goes in several requests (devtools/onboard.py).
ROWS_PER_REQUEST = 50
EMAILS_PER_REQUEST = 50
EXAMPLE_HOURS = "mon-fri 08-20; sat 09-18; sun closed"

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_NAMES = {name: day for day, name in enumerate(_DAYS)} | {
    full: day
    for day, full in enumerate(
        ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    )
}
_SEGMENT = re.compile(r"(.+?)\s+(closed|\d[\d:\s-]*|[^\s]+)")  # days, then hours
_HOURS = re.compile(r"(\d{1,2})(?::(\d\d))?\s*-\s*(\d{1,2})(?::(\d\d))?")
_SHOWN = 40  # characters of a bad cell quoted back in a message


class HeaderError(ValueError):
    """The CSV's header is not the onboarding header: it names the missing or unknown columns."""


def _shown(text: str) -> str:
    return repr(text if len(text) <= _SHOWN else text[:_SHOWN] + "...")


def parse_opening_hours(text: str) -> dict[int, tuple[int, int]] | None:
    """`mon-fri 08-20; sat 09-18; sun closed` -> {0: (8, 20), ..., 5: (9, 18)} (Monday is 0;
    a day not named is closed); empty -> None (the store's hours are not known). ValueError
    saying what is wrong otherwise."""
    if not text.strip():
        return None
    hours: dict[int, tuple[int, int]] = {}
    named: set[int] = set()
    for segment in filter(None, (part.strip().lower() for part in re.split(r"[;\n]", text))):
        parts = _SEGMENT.fullmatch(segment)
        if parts is None:
            raise ValueError(f"{_shown(segment)} is not like {EXAMPLE_HOURS!r}")
        days_text, times = parts.groups()
        days = _days(days_text)
        if named & set(days):
            again = ", ".join(_DAYS[day] for day in sorted(named & set(days)))
            raise ValueError(f"{again} given twice")
        named |= set(days)
        if times == "closed":
            continue
        span = _span(times)
        hours |= dict.fromkeys(days, span)
    return hours


def _days(text: str) -> list[int]:
    """`mon-fri`, `sat`, `mon,wed`, `fri-mon` (through the weekend), `daily`."""
    if text.strip() == "daily":
        return list(range(7))
    days: list[int] = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        first, dash, last = (part.strip() for part in item.partition("-"))
        if first not in _DAY_NAMES or (dash and last not in _DAY_NAMES):
            raise ValueError(f"{_shown(item)} is not a day or days (mon-fri, sat, daily)")
        start, end = _DAY_NAMES[first], _DAY_NAMES[last or first]
        days += [(start + step) % 7 for step in range((end - start) % 7 + 1)]
    if not days:
        raise ValueError(f"{_shown(text)} names no day")
    return days


def _span(text: str) -> tuple[int, int]:
    match = _HOURS.fullmatch(text)
    if match is None:
        raise ValueError(f"{_shown(text)} is not hours like 08-20, or closed")
    opens, open_minutes, closes, close_minutes = match.groups()
    if (open_minutes or "00") != "00" or (close_minutes or "00") != "00":
        raise ValueError(f"{_shown(text)}: opening hours are whole hours (08-20)")
    span = int(opens), int(closes)
    if not 0 <= span[0] < span[1] <= 24:
        raise ValueError(
            f"{_shown(text)}: a store opens at 0-23 and closes later the same day, at 24 at the "
            "latest (hours past midnight are not supported)"
        )
    return span


def split_emails(text: str) -> list[str]:
    """The e-mails of a cell, joined by `;` (or `,`), in lower case, each once."""
    found = (part.strip().lower() for part in re.split(r"[;,\s]+", text))
    return list(dict.fromkeys(filter(None, found)))


def _email(value: str) -> str:
    # What an invitation takes (POST /v1/staff), so that a row passes here only if its
    # people can be invited; control characters are no part of an address either.
    if not re.fullmatch(EMAIL, value) or any(ord(c) < 0x20 for c in value):
        raise ValueError(f"{_shown(value)} is not an e-mail address")
    return value


Email = Annotated[str, AfterValidator(_email)]


class OnboardingRow(BaseModel):
    """A good row: the store to create and the people to invite to it."""

    model_config = ConfigDict(frozen=True)

    line: int
    store: Store
    staff_emails: tuple[Email, ...] = Field(default=(), max_length=EMAILS_PER_REQUEST)
    manager_emails: tuple[Email, ...] = Field(default=(), max_length=EMAILS_PER_REQUEST)

    @field_validator("store")
    @classmethod
    def _known_zone_and_country(cls, store: Store) -> Store:
        problems = [_zone_problem(store.timezone), _country_problem(store.country)]
        if any(ord(character) < 0x20 for character in store.name):
            problems.append("name: one line of text, without control characters")
        if any(problems):
            raise ValueError("; ".join(filter(None, problems)))
        return store

    @model_validator(mode="after")
    def _managers_have_a_region(self) -> OnboardingRow:
        if self.manager_emails and self.store.region is None:
            raise ValueError("manager_emails: managers look after a region: the row needs one")
        total = len(self.staff_emails) + len(self.manager_emails)
        if total > EMAILS_PER_REQUEST:
            raise ValueError(f"at most {EMAILS_PER_REQUEST} e-mails a row, this one has {total}")
        return self

    @property
    def email_count(self) -> int:
        return len(self.staff_emails) + len(self.manager_emails)


def _zone_problem(name: str) -> str:
    """What is wrong with a time zone's name, or "" if it is an IANA zone."""
    problem = (
        f"timezone: {_shown(name)} is not an IANA time zone (like Europe/London, America/New_York)"
    )
    if name in ("localtime", "posixrules", "Factory"):  # files of the host, not zones
        return problem
    try:
        ZoneInfo(name)
    except (ValueError, OSError, KeyError):  # ZoneInfoNotFoundError is a KeyError
        return problem
    return ""


def _country_problem(code: str) -> str:
    """What is wrong with a country code, or "" if it is one phone numbers know (ISO 3166)."""
    if code in phonenumbers.SUPPORTED_REGIONS:
        return ""
    return f"country: {_shown(code)} is not an ISO 3166 country code (like US, GB)"


class RowError(BaseModel):
    """A row that cannot go in: its line in the file and what is wrong with it."""

    model_config = ConfigDict(frozen=True)

    line: int
    store_id: str  # as written (cut to 128 characters), "" if the cell is empty
    message: str


# Pattern errors read better as the rule than as the regular expression.
_RULES = {
    "store_id": "2-63 characters: lower-case letters, digits and '-', not starting with '-'",
    "region": "lower-case letters, digits and '-', not starting with '-' (or empty)",
}


def _messages(error: ValidationError) -> list[str]:
    """Pydantic's errors as `column: what is wrong`, each once."""
    problems: dict[str, None] = {}
    for item in error.errors(include_input=False, include_url=False):
        location = [str(part) for part in item["loc"] if not isinstance(part, int)]
        column = next((part for part in reversed(location) if part in COLUMNS), "")
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "string_pattern_mismatch" and column in _RULES:
            message = _RULES[column]
        elif item["type"] == "string_too_short" and column == "name":
            message = "empty: every store has a name"
        if column and not message.startswith(f"{column}:"):
            message = f"{column}: {message}"
        problems[message] = None
    return list(problems)


def read_row(
    cells: dict[str, str], line: int, survey: Survey = DEFAULT_SURVEY
) -> OnboardingRow | RowError:
    """One record of the CSV (column -> cell) as a row to create, or the error saying what is
    wrong with it (every column that is)."""
    store_id = cells.get("store_id", "").strip()
    zone = cells.get("timezone", "").strip()
    country = cells.get("country", "").strip().upper()
    problems = []
    try:
        hours = parse_opening_hours(cells.get("opening_hours", ""))
    except ValueError as error:
        problems.append(f"opening_hours: {error}")
        hours = None
    # Checked here as well as by the model, so that a bad zone or country does not hide
    # what is wrong with the other columns: the model then checks them with a stand-in.
    zone_problem, country_problem = _zone_problem(zone), _country_problem(country)
    problems += filter(None, (zone_problem, country_problem))
    values = {
        "line": line,
        "store": {
            "store_id": store_id,
            "name": cells.get("name", "").strip(),
            "timezone": "UTC" if zone_problem else zone,
            "country": "US" if country_problem else country,
            "region": cells.get("region", "").strip() or None,
            "opening_hours": hours,
            "survey": survey,
        },
        "staff_emails": split_emails(cells.get("staff_emails", "")),
        "manager_emails": split_emails(cells.get("manager_emails", "")),
    }
    try:
        row = OnboardingRow.model_validate(values)
    except ValidationError as error:
        problems += _messages(error)
    if problems:
        return RowError(line=line, store_id=store_id[:128], message="; ".join(problems))
    return row


@dataclass(frozen=True)
class _Record:
    first: int  # its first physical line, counted from the header's line (1)
    last: int
    cells: list[str] | None  # None: the CSV module could not read it
    problem: str = ""


def _lines(text: str) -> list[str]:
    # newline="": split at \n, \r\n and \r as the csv module does, keeping each ending.
    return io.StringIO(text.removeprefix("\ufeff"), newline="").readlines()


def _records(lines: list[str]) -> Iterator[_Record]:
    """Each record of the lines, blank ones included, with the span of lines it took."""
    delimiter = next((d for d in (",", ";", "\t") if lines and d in lines[0]), ",")
    reader = csv.reader(iter(lines), dialect="excel", delimiter=delimiter, strict=True)
    while True:
        first = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            yield _Record(first, max(first, reader.line_num), None, str(error))
            if reader.line_num < first:  # nothing more was consumed: the end of the data
                return
            continue
        yield _Record(first, reader.line_num, cells)


def _store_id(row: OnboardingRow | RowError) -> str:
    return row.store.store_id if isinstance(row, OnboardingRow) else row.store_id


def _header(record: _Record | None) -> list[str]:
    if record is not None and record.cells is None:
        raise HeaderError(f"the header line is not CSV: {record.problem}")
    if record is None or not record.cells or not any(cell.strip() for cell in record.cells):
        raise HeaderError(f"the CSV is empty: its first line is the header {','.join(COLUMNS)}")
    names = [cell.strip().lower() for cell in record.cells]
    missing = [name for name in COLUMNS if name not in names]
    unknown = [name for name in names if name not in COLUMNS]
    doubled = sorted({name for name in names if names.count(name) > 1})
    problems = []
    if missing:
        problems.append(f"the header has no column {', '.join(missing)}")
    if unknown:
        problems.append(f"unknown column {', '.join(_shown(name) for name in unknown)}")
    if doubled:
        problems.append(f"column {', '.join(doubled)} more than once")
    if problems:
        raise HeaderError("; ".join(problems) + f" (the header is {','.join(COLUMNS)})")
    return names


def _is_blank(record: _Record) -> bool:
    return record.cells is not None and not any(cell.strip() for cell in record.cells)


def read_csv(
    text: str, first_line: int = 2, survey: Survey = DEFAULT_SURVEY
) -> list[OnboardingRow | RowError]:
    """The rows of an onboarding CSV in file order (blank lines skipped), each to create or
    an error; the record after the header is line `first_line` of the file. A store id that
    an earlier row of the same text has is an error. HeaderError if the header is wrong;
    nothing else raises."""
    records = _records(_lines(text))
    header = next(records, None)
    names = _header(header)
    after_header = header.last + 1 if header else 2
    rows: list[OnboardingRow | RowError] = []
    seen: dict[str, int] = {}
    for record in records:
        line = first_line + record.first - after_header
        if _is_blank(record):
            continue
        if record.cells is None:
            rows.append(RowError(line=line, store_id="", message=f"not CSV: {record.problem}"))
            continue
        if len(record.cells) > len(names):
            rows.append(
                RowError(
                    line=line,
                    store_id="",
                    message=f"{len(record.cells)} cells, the header has {len(names)} columns "
                    "(a cell holding a comma must be quoted)",
                )
            )
            continue
        row = read_row(dict(zip(names, record.cells, strict=False)), line, survey)
        store_id = _store_id(row)
        if store_id and store_id in seen:
            row = RowError(
                line=line,
                store_id=store_id,
                message=f"store_id {store_id} is also on line {seen[store_id]}: once per file",
            )
        elif store_id:
            seen[store_id] = line
        rows.append(row)
    return rows


@dataclass(frozen=True)
class Chunk:
    """Part of a CSV that one request takes: the header, then whole records."""

    first_line: int  # the file's line of the first record after the header
    csv: str
    rows: int


def split_csv(
    text: str, rows: int = ROWS_PER_REQUEST, emails: int = EMAILS_PER_REQUEST
) -> tuple[list[Chunk], list[RowError]]:
    """The CSV as parts of at most `rows` rows and `emails` e-mails each, as they are written
    (blank lines between records kept, so that each part's `first_line` numbers its lines as
    the file does); and the rows whose store id an earlier row has, as `read_csv` reports
    them. Those are left out of the parts, their lines blanked: a part never holds a store
    id of another, which its request could not know. HeaderError if the header is wrong."""
    lines = _lines(text)
    records = list(_records(lines))
    _header(records[0] if records else None)
    after_header = records[0].last + 1
    by_line = {row.line: row for row in read_csv(text, after_header)}
    first_seen: dict[str, int] = {}
    doubles: list[RowError] = []
    parts: list[list[_Record]] = [[]]
    rows_in = emails_in = 0
    for record in records[1:]:
        row = by_line.get(record.first)
        store_id = _store_id(row) if row else ""
        if isinstance(row, RowError) and first_seen.get(store_id, record.first) < record.first:
            doubles.append(row)
            for index in range(record.first - 1, record.last):
                lines[index] = lines[index][len(lines[index].rstrip("\r\n")) :]
            continue
        if store_id:
            first_seen.setdefault(store_id, record.first)
        weight = row.email_count if isinstance(row, OnboardingRow) else 0
        if row is not None and parts[-1] and (rows_in + 1 > rows or emails_in + weight > emails):
            parts.append([])
            rows_in = emails_in = 0
        parts[-1].append(record)
        rows_in += row is not None
        emails_in += weight
    header_text = "".join(lines[: records[0].last])
    chunks = [
        Chunk(
            first_line=part[0].first,
            csv=header_text + "".join(lines[part[0].first - 1 : part[-1].last]),
            rows=sum(record.first in by_line for record in part),
        )
        for part in parts
        if any(record.first in by_line for record in part)
    ]
    return chunks, doubles


class OnboardingRequest(BaseModel):
    """A CSV (or part of one: the header, then whole records) to onboard."""

    model_config = ConfigDict(extra="forbid")

    csv: str = Field(description="the CSV's text, header first (docs/onboarding.md)")
    first_line: int = Field(
        default=2,
        ge=2,
        le=10_000_000,
        description="the file's line of the record after the header (a part of a file)",
    )


def _optional(description: str) -> Any:
    """A field the answer leaves out when it has nothing to say (never null)."""
    return Field(default=None, description=description, json_schema_extra=_no_default)


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


class PersonResult(BaseModel):
    """One e-mail of a row: invited now, already there, or not invited (`error` says why)."""

    email: str
    status: Literal["invited", "exists", "error"]
    error: str | SkipJsonSchema[None] = _optional("why, when `error`")


class RowResult(BaseModel):
    """One row of the CSV: its store `created`, already there (`exists`, left as it was), or
    `error`: the row's data, or a dependency that failed (`error` says which; sending the row
    again is safe)."""

    line: int
    store_id: str
    status: Literal["created", "exists", "error"]
    error: str | SkipJsonSchema[None] = _optional("what is wrong, when `error`")
    staff: list[PersonResult] = Field(default_factory=list)


class OnboardingReport(BaseModel):
    """Each row's result in file order, and how many stores were created, were there, failed."""

    rows: list[RowResult]
    created: int
    exists: int
    errors: int

    @classmethod
    def of(cls, rows: list[RowResult]) -> OnboardingReport:
        statuses = [row.status for row in rows]
        return cls(
            rows=rows,
            created=statuses.count("created"),
            exists=statuses.count("exists"),
            errors=statuses.count("error"),
        )
