"""Bulk onboarding from a CSV: the reading of a spreadsheet's export with plain strings, the
flow with stand-ins for the store and invitation flows, and the route through
`chalice.test.Client` on moto."""

from __future__ import annotations

import contextlib
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.auth import StaffPrincipal
from chalicelib.domain.onboarding import (
    COLUMNS,
    HeaderError,
    OnboardingReport,
    OnboardingRow,
    RowError,
    parse_opening_hours,
    read_csv,
    split_csv,
    split_emails,
)
from chalicelib.domain.survey import DEFAULT_SURVEY, Store
from chalicelib.errors import (
    BadRequest,
    Conflict,
    DependencyUnavailable,
    Forbidden,
    PayloadTooLarge,
)
from chalicelib.flows.onboarding import TIME_BUDGET_S, onboard

pytestmark = pytest.mark.unit

HEADER = ",".join(COLUMNS)


def csv_of(*rows: str, header: str = HEADER, newline: str = "\r\n") -> str:
    return newline.join([header, *rows]) + newline


def good(store_id: str = "s-1", /, **cells: str) -> str:
    values = {
        "store_id": store_id,
        "name": f"Store {store_id}",
        "timezone": "Europe/London",
        "country": "GB",
        "region": "west",
        "opening_hours": "mon-fri 08-20; sat 09-18; sun closed",
        "staff_emails": f"ann@{store_id}.example.com;bo@{store_id}.example.com",
        "manager_emails": "mia@example.com",
    } | cells
    return ",".join('"' + values[column].replace('"', '""') + '"' for column in COLUMNS)


def errors(rows: list[OnboardingRow | RowError]) -> dict[int, str]:
    return {row.line: row.message for row in rows if isinstance(row, RowError)}


# Opening hours -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "hours"),
    [
        ("mon-fri 08-20; sat 09-18; sun closed", {**dict.fromkeys(range(5), (8, 20)), 5: (9, 18)}),
        ("Mon-Fri 8-20;Sat 9-18", {**dict.fromkeys(range(5), (8, 20)), 5: (9, 18)}),
        ("daily 07:00-23:00", dict.fromkeys(range(7), (7, 23))),
        ("mon,wed 09-17", {0: (9, 17), 2: (9, 17)}),
        ("fri-mon 10-16", {4: (10, 16), 5: (10, 16), 6: (10, 16), 0: (10, 16)}),
        ("saturday 0-24", {5: (0, 24)}),
        ("mon - fri 08 - 20", dict.fromkeys(range(5), (8, 20))),
        ("sun closed", {}),
        ("", None),
        ("   ", None),
    ],
)
def test_opening_hours_read_into_the_stores_shape(text, hours):
    assert parse_opening_hours(text) == hours


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("9-5", "is not like 'mon-fri 08-20; sat 09-18; sun closed'"),
        ("mon-fri 8:30-20", "whole hours"),
        ("mon 20-08", "hours past midnight are not supported"),
        ("mon 08-25", "closes later the same day"),
        ("mon-fri 08-20; fri 09-18", "fri given twice"),
        ("someday 08-20", "'someday' is not a day"),
        ("mon open", "'open' is not hours like 08-20, or closed"),
    ],
)
def test_opening_hours_that_cannot_be_read_say_why(text, says):
    with pytest.raises(ValueError, match=re.escape(says)):
        parse_opening_hours(text)


def test_emails_are_split_lowered_and_each_kept_once():
    assert split_emails(" Ann@X.com; bo@x.com;;ann@x.com ,cy@x.com ") == [
        "ann@x.com",
        "bo@x.com",
        "cy@x.com",
    ]
    assert split_emails("") == []


# Rows ----------------------------------------------------------------------------------


def test_a_good_row_is_a_store_with_the_default_survey_and_its_people():
    [row] = read_csv(csv_of(good("s-1", country="gb")))

    assert isinstance(row, OnboardingRow)
    assert row.line == 2
    assert row.store.store_id == "s-1"
    assert row.store.country == "GB"
    assert row.store.region == "west"
    assert row.store.timezone == "Europe/London"
    assert row.store.opening_hours == {**dict.fromkeys(range(5), (8, 20)), 5: (9, 18)}
    assert row.store.survey == DEFAULT_SURVEY
    assert row.staff_emails == ("ann@s-1.example.com", "bo@s-1.example.com")
    assert row.manager_emails == ("mia@example.com",)


def test_the_survey_can_be_another():
    other = DEFAULT_SURVEY.model_copy(update={"survey_id": "other"})

    [row] = read_csv(csv_of(good()), survey=other)

    assert isinstance(row, OnboardingRow)
    assert row.store.survey.survey_id == "other"


def test_optional_cells_may_be_empty():
    [row] = read_csv(csv_of(good(region="", opening_hours="", staff_emails="", manager_emails="")))

    assert isinstance(row, OnboardingRow)
    assert row.store.region is None
    assert row.store.opening_hours is None
    assert row.staff_emails == row.manager_emails == ()


@pytest.mark.parametrize(
    ("cells", "says"),
    [
        ({"store_id": "Store_1"}, "store_id: 2-63 characters: lower-case letters"),
        ({"store_id": ""}, "store_id: 2-63 characters"),
        ({"name": ""}, "name: empty"),
        ({"name": "x" * 121}, "name: String should have at most 120 characters"),
        ({"name": "a\tb"}, "name: one line of text"),
        ({"timezone": "Europe/Londn"}, "timezone: 'Europe/Londn' is not an IANA time zone"),
        ({"timezone": "../../etc/passwd"}, "is not an IANA time zone"),
        ({"timezone": ""}, "timezone: '' is not an IANA time zone"),
        ({"timezone": "localtime"}, "is not an IANA time zone"),
        ({"country": "ZZ"}, "country: 'ZZ' is not an ISO 3166 country code"),
        ({"country": "USA"}, "country: 'USA' is not an ISO 3166 country code"),
        ({"region": "West Coast"}, "region: lower-case letters, digits and '-'"),
        ({"opening_hours": "all day"}, "opening_hours: "),
        ({"staff_emails": "ann@example.com;not-an-email"}, "staff_emails: 'not-an-email' is not"),
        ({"manager_emails": "mia@"}, "manager_emails: 'mia@' is not an e-mail address"),
        ({"staff_emails": "a/b@x.com"}, "staff_emails: 'a/b@x.com' is not"),  # as invitations
        ({"staff_emails": "ann@localhost"}, "staff_emails: 'ann@localhost' is not"),
        ({"region": "", "manager_emails": "mia@x.com"}, "managers look after a region"),
        (
            {"staff_emails": ";".join(f"p{n}@x.com" for n in range(51)), "manager_emails": ""},
            "staff_emails: Tuple should have at most 50 items",
        ),
    ],
)
def test_a_bad_cell_is_an_error_of_its_line_naming_the_column(cells, says):
    text = csv_of(good("s-1"), good("s-2", **cells), good("s-3"))

    rows = read_csv(text)

    assert [row.line for row in rows] == [2, 3, 4]
    assert isinstance(rows[0], OnboardingRow)
    assert isinstance(rows[2], OnboardingRow)
    assert list(errors(rows)) == [3]
    assert says in errors(rows)[3], errors(rows)[3]


def test_every_bad_column_of_a_row_is_named_at_once():
    row = good(
        "S_1", name="", timezone="Mars/Base", country="ZZ", opening_hours="9-5", staff_emails="x"
    )

    message = errors(read_csv(csv_of(row)))[2]

    for column in ("store_id", "name", "timezone", "country", "opening_hours", "staff_emails"):
        assert f"{column}: " in message, column


def test_a_second_row_with_the_same_store_id_is_an_error_naming_the_first():
    rows = read_csv(csv_of(good("s-1"), good("s-2"), good("s-1", name="Again")))

    assert errors(rows) == {4: "store_id s-1 is also on line 2: once per file"}
    assert isinstance(rows[0], OnboardingRow)
    assert rows[0].store.name == "Store s-1"


# The file as a spreadsheet writes it ---------------------------------------------------


def test_excel_quoting_bom_crlf_and_line_breaks_in_cells_keep_the_physical_line_numbers():
    text = "\ufeff" + csv_of(
        good("s-1", name='The "Big" One, Leeds'),
        "",  # a blank line: skipped, but counted
        good("s-2", opening_hours="mon-fri 08-20;\r\nsat 09-18"),  # lines 4-5
        ",,,,,,,",  # an empty row Excel writes for a formatted line
        good("s-3", timezone="Nowhere"),  # line 7
    )

    rows = read_csv(text)

    assert [row.line for row in rows] == [2, 4, 7]
    assert isinstance(rows[0], OnboardingRow)
    assert rows[0].store.name == 'The "Big" One, Leeds'
    assert isinstance(rows[1], OnboardingRow)
    assert rows[1].store.opening_hours == {**dict.fromkeys(range(5), (8, 20)), 5: (9, 18)}
    assert list(errors(rows)) == [7]


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_excel_in_a_locale_that_writes_semicolons_or_tabs(delimiter):
    header = delimiter.join(COLUMNS)
    row = delimiter.join(["s-1", "Shop", "UTC", "US", "", "", '"ann@x.com;bo@x.com"', ""])

    [read] = read_csv(csv_of(row, header=header))

    assert isinstance(read, OnboardingRow)
    assert read.staff_emails == ("ann@x.com", "bo@x.com")


def test_lf_and_cr_line_endings_read_alike():
    for newline in ("\n", "\r"):
        rows = read_csv(csv_of(good("s-1"), good("s-2", country="ZZ"), newline=newline))

        assert [row.line for row in rows] == [2, 3]
        assert list(errors(rows)) == [3]


def test_columns_in_any_order_and_case():
    header = ",".join(reversed([column.upper() for column in COLUMNS]))
    row = ",".join(reversed(["s-1", "Shop", "UTC", "US", "", "", "", ""]))

    [read] = read_csv(csv_of(row, header=header))

    assert isinstance(read, OnboardingRow)
    assert read.store.store_id == "s-1"


def test_a_row_with_more_cells_than_columns_says_to_quote():
    rows = read_csv(csv_of(good("s-1") + ",extra"))

    assert "9 cells, the header has 8 columns" in errors(rows)[2]


def test_a_broken_quote_is_an_error_of_its_line_and_the_rows_before_go_in():
    rows = read_csv(csv_of(good("s-1"), 's-2,"Shop"x,UTC,US,,,,', good("s-3")))

    assert [row.line for row in rows] == [2, 3, 4]
    assert errors(rows)[3].startswith("not CSV:")
    assert isinstance(rows[2], OnboardingRow)


def test_an_unclosed_quote_takes_the_rest_of_the_file_and_says_so():
    rows = read_csv(csv_of(good("s-1"), 's-2,"Shop,UTC,US,,,,', "s-3,Shop,UTC,US,,,,"))

    assert isinstance(rows[0], OnboardingRow)
    assert errors(rows) == {3: "not CSV: unexpected end of data"}


@pytest.mark.parametrize(
    ("header", "says"),
    [
        (HEADER.replace(",manager_emails", ""), "the header has no column manager_emails"),
        (HEADER.replace("timezone,country", "tz"), "no column timezone, country"),
        (HEADER + ",survey", "unknown column 'survey'"),
        (HEADER + ",name", "column name more than once"),
    ],
)
def test_a_wrong_header_is_one_error_naming_the_columns(header, says):
    with pytest.raises(HeaderError) as raised:
        read_csv(csv_of(good(), header=header))

    assert says in str(raised.value)
    assert HEADER in str(raised.value)


@pytest.mark.parametrize("text", ["", "\ufeff", "\r\n\r\n", ",,,\r\n"])
def test_an_empty_file_is_a_header_error(text):
    with pytest.raises(HeaderError, match="the CSV is empty"):
        read_csv(text)


def test_first_line_numbers_a_part_of_a_file():
    rows = read_csv(csv_of(good("s-1"), "", good("s-2", country="ZZ")), first_line=102)

    assert [row.line for row in rows] == [102, 104]
    assert list(errors(rows)) == [104]


@given(st.text(alphabet=st.sampled_from(list(',;"\r\n\t \ufeffab@.-0:9x\x00é')), max_size=300))
def test_no_text_after_a_good_header_makes_reading_raise(body):
    rows = read_csv(HEADER + "\r\n" + body)

    lines = [row.line for row in rows]
    assert lines == sorted(set(lines))
    assert all(line >= 2 for line in lines)


@given(st.text(max_size=200))
def test_any_text_reads_as_rows_or_a_header_error(text):
    with contextlib.suppress(HeaderError):
        read_csv(text)


@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "store_id": st.text(max_size=10),
                "timezone": st.sampled_from(["UTC", "Europe/Paris", "Bad/Zone", ""]),
                "opening_hours": st.text(alphabet="monfri-sat 0189:;closed", max_size=30),
                "staff_emails": st.text(alphabet="ab@.x;,", max_size=20),
            }
        ),
        max_size=6,
    )
)
def test_no_row_makes_reading_raise(cells):
    text = csv_of(*(good(f"s-{n}", **row).replace('""', "") for n, row in enumerate(cells)))

    rows = read_csv(text)

    assert len(rows) == len(cells)


# Parts of a file -----------------------------------------------------------------------


def test_a_file_is_split_into_parts_that_number_their_lines_as_the_file_does():
    body = [good(f"s-{n}", staff_emails="", manager_emails="") for n in range(120)]
    body.insert(60, "")
    text = csv_of(*body)

    parts, doubles = split_csv(text)

    assert doubles == []
    assert [part.rows for part in parts] == [50, 50, 20]
    assert [part.first_line for part in parts] == [2, 52, 103]
    read = [row for part in parts for row in read_csv(part.csv, part.first_line)]
    assert [row.line for row in read] == [row.line for row in read_csv(text)]
    assert all(part.csv.startswith(HEADER + "\r\n") for part in parts)


def test_parts_hold_at_most_so_many_emails():
    text = csv_of(*(good(f"s-{n}") for n in range(40)))  # 3 e-mails a row

    parts, _ = split_csv(text, rows=50, emails=50)

    assert [part.rows for part in parts] == [16, 16, 8]


def test_a_store_id_of_an_earlier_part_is_reported_once_and_sent_in_no_part():
    text = csv_of(good("s-1"), good("s-2"), good("s-3"), good("s-1", name="Again"), good("s-4"))

    parts, doubles = split_csv(text, rows=2)

    assert doubles == [
        RowError(line=5, store_id="s-1", message="store_id s-1 is also on line 2: once per file")
    ]
    read = [row for part in parts for row in read_csv(part.csv, part.first_line)]
    assert [row.line for row in read] == [2, 3, 4, 6]
    assert all(isinstance(row, OnboardingRow) for row in read)


def test_a_wrong_header_is_found_before_anything_is_sent():
    with pytest.raises(HeaderError):
        split_csv("store_id,name\r\ns-1,Shop\r\n")


# The flow, with stand-ins for the store and people flows --------------------------------

ADMIN = StaffPrincipal(subject="root@example.com", role="admin", store_ids=frozenset())


class Chain:
    """The stores and people a run leaves, as the store and people flows keep them: what
    exists is left as it is, and said to exist."""

    def __init__(self, failing: dict[str, Exception] | None = None) -> None:
        self.stores: dict[str, Store] = {}
        self.people: dict[str, tuple[str, set[str], str | None]] = {}
        self.invitations = 0
        self.failing = failing or {}

    def create_store(self, store: Store) -> str:
        if store.store_id in self.failing:
            raise self.failing[store.store_id]
        if store.store_id in self.stores:
            return "exists"
        self.stores[store.store_id] = store
        return "created"

    def invite(self, principal, email, role, stores, region):
        assert principal is ADMIN
        self.invitations += 1
        if email in self.failing:
            raise self.failing[email]
        if role == "staff":
            assert stores
            assert region is None
        else:
            assert stores is None
            assert region
        known = self.people.get(email)
        self.people[email] = (role, (known[1] if known else set()) | set(stores or ()), region)
        return "exists" if known else "invited"

    def run(self, text: str, first_line: int = 2) -> OnboardingReport:
        return onboard(ADMIN, text, first_line, create_store=self.create_store, invite=self.invite)


def test_each_good_row_is_created_with_its_people_and_each_bad_one_reported():
    chain = Chain()
    text = csv_of(good("s-1"), good("s-2", timezone="Nowhere"), good("s-3", manager_emails=""))

    report = chain.run(text)

    assert (report.created, report.exists, report.errors) == (2, 0, 1)
    assert [(row.line, row.store_id, row.status) for row in report.rows] == [
        (2, "s-1", "created"),
        (3, "s-2", "error"),
        (4, "s-3", "created"),
    ]
    assert "timezone: 'Nowhere'" in (report.rows[1].error or "")
    assert sorted(chain.stores) == ["s-1", "s-3"]
    assert chain.stores["s-1"].survey == DEFAULT_SURVEY
    assert [(p.email, p.status) for p in report.rows[0].staff] == [
        ("ann@s-1.example.com", "invited"),
        ("bo@s-1.example.com", "invited"),
        ("mia@example.com", "invited"),
    ]
    assert chain.people["ann@s-1.example.com"] == ("staff", {"s-1"}, None)
    assert chain.people["mia@example.com"] == ("manager", set(), "west")


def test_a_run_again_changes_nothing_and_says_every_row_exists():
    chain = Chain()
    text = csv_of(*(good(f"s-{n}") for n in range(10)))
    chain.run(text)
    stores_before, people_before = dict(chain.stores), dict(chain.people)

    again = chain.run(text)

    assert (again.created, again.exists, again.errors) == (0, 10, 0)
    assert {p.status for row in again.rows for p in row.staff} == {"exists"}
    assert chain.stores == stores_before
    assert chain.people == people_before


def test_a_regions_manager_is_invited_once_a_request():
    chain = Chain()

    report = chain.run(csv_of(*(good(f"s-{n}", staff_emails="") for n in range(5))))

    assert chain.invitations == 1
    assert [row.staff[0].status for row in report.rows] == ["invited"] + ["exists"] * 4


@pytest.mark.parametrize(
    "failure",
    [
        DependencyUnavailable("storage is busy; retry later", 2),
        Conflict("a store is being written"),
        RuntimeError("a bug"),
    ],
)
def test_a_store_that_cannot_be_created_is_reported_and_the_rest_go_in(failure):
    chain = Chain(failing={"s-2": failure})

    report = chain.run(csv_of(good("s-1"), good("s-2"), good("s-3")))

    assert [row.status for row in report.rows] == ["created", "error", "created"]
    assert report.rows[1].staff == []
    if isinstance(failure, RuntimeError):
        assert report.rows[1].error == "an internal error; sending the row again is safe"
    else:
        assert (report.rows[1].error or "").startswith(failure.message)
    assert sorted(chain.stores) == ["s-1", "s-3"]


def test_a_person_who_cannot_be_invited_fails_the_row_and_nothing_else():
    chain = Chain(
        failing={
            "bo@s-1.example.com": Conflict("bo@s-1.example.com is already a manager"),
        }
    )

    report = chain.run(csv_of(good("s-1"), good("s-2")))

    first = report.rows[0]
    assert first.status == "error"
    assert first.error == (
        "the store created; not invited: bo@s-1.example.com (see staff); "
        "sending the row again is safe"
    )
    assert [(p.email, p.status) for p in first.staff] == [
        ("ann@s-1.example.com", "invited"),
        ("bo@s-1.example.com", "error"),
        ("mia@example.com", "invited"),
    ]
    assert first.staff[1].error == "bo@s-1.example.com is already a manager"
    assert report.rows[1].status == "created"
    assert sorted(chain.stores) == ["s-1", "s-2"]


def test_a_wrong_header_is_a_bad_request_naming_the_column():
    with pytest.raises(BadRequest, match="the header has no column region"):
        Chain().run(csv_of(header=HEADER.replace("region,", "")))


def test_more_rows_or_emails_than_a_request_takes_are_refused_before_any_goes_in():
    chain = Chain()
    many_rows = csv_of(*(good(f"s-{n}", staff_emails="", manager_emails="") for n in range(51)))
    many_emails = csv_of(*(good(f"s-{n}") for n in range(17)))  # 3 e-mails each: 51

    for text in (many_rows, many_emails):
        with pytest.raises(PayloadTooLarge, match="Split the CSV"):
            chain.run(text)

    assert chain.stores == {}


def test_only_an_admin_onboards():
    manager = StaffPrincipal(
        subject="m@x.com", role="manager", store_ids=frozenset(), regions=frozenset({"west"})
    )
    chain = Chain()

    with pytest.raises(Forbidden):
        onboard(manager, csv_of(good()), create_store=chain.create_store, invite=chain.invite)
    assert chain.stores == {}


def test_rows_not_started_in_the_requests_time_are_reported_for_sending_again():
    chain = Chain()
    ticks = iter([0.0, 1.0, 5.0, TIME_BUDGET_S, TIME_BUDGET_S + 1])

    report = onboard(
        ADMIN,
        csv_of(good("s-1"), good("s-2"), good("s-3", country="ZZ"), good("s-4")),
        create_store=chain.create_store,
        invite=chain.invite,
        clock=lambda: next(ticks),
    )

    assert [row.status for row in report.rows] == ["created", "created", "error", "error"]
    assert (report.rows[3].error or "").startswith("not started: this request's 20 s ran out")
    assert sorted(chain.stores) == ["s-1", "s-2"]
