"""The dashboard on the staff page, on the local stack: three weeks of ratings seeded through
the kiosk API and counted by the stack's own scheduled run; each chart and table is checked
against the API's numbers, then the language switch and the CSV download (parsed back and
compared with what was stored)."""

from __future__ import annotations

import csv
import io
import math
import random
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import requests

from tests.browser.staff_page import paired_kiosk, sign_in
from tests.polling import wait_until

ZONE = "America/Los_Angeles"
DAYS = 21
REASONS = ["wait_time", "staff", "price"]
RATINGS_HEADER = (
    "rating_id,store_id,kiosk_id,channel,score,scale_max,tapped_at,received_at,reasons,"
    "comment,expectation,burst,survey_version"
)


def _seed(stack: Any, store_id: str, count: int, rng: random.Random) -> dict[str, dict[str, Any]]:
    """`count` ratings of two kiosks over the last DAYS days, sent as kiosks send them."""
    kiosks = [paired_kiosk(stack, store_id) for _ in range(2)]
    now = datetime.now(UTC)
    sent: dict[str, dict[str, Any]] = {}
    for kiosk in kiosks:
        # Taps in distinct 5-minute slots over the days and hours: no repeat presses.
        slots = rng.sample(range(1, DAYS * 24 * 12), count // len(kiosks))
        batch = []
        for slot in slots:
            score = rng.choice([1, 2, 3, 4, 4, 5, 5, 5])
            rating = {
                "rating_id": str(uuid.uuid4()),
                "score": score,
                "tapped_at": (now - timedelta(minutes=5 * slot)).isoformat(),
                "reasons": rng.sample(REASONS, rng.randrange(2)) if score <= 3 else [],
                "expectation": rng.choice(["worse", "as_expected", "better"]),
                "comment": "=HYPERLINK(1)" if not sent else None,
            }
            batch.append(rating)
            sent[rating["rating_id"]] = rating | {"kiosk_id": kiosk["kiosk_id"]}
        for first in range(0, len(batch), 100):
            answer = requests.post(
                f"{stack.demo['api_url']}/v1/kiosk/ratings",
                headers={"Authorization": f"Bearer {kiosk['token']}"},
                json={
                    "sent_at": datetime.now(UTC).isoformat(),
                    "ratings": batch[first : first + 100],
                },
                timeout=30,
            )
            assert answer.status_code == 200, answer.text
            assert {r["status"] for r in answer.json()["results"]} == {"stored"}, answer.text
    return sent


def _api(stack: Any, path: str) -> Any:
    answer = requests.get(
        f"{stack.demo['api_url']}{path}",
        headers={"Authorization": f"Bearer {stack.demo['admin_token']}"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def _tenths(share: float) -> float:
    """A share in percent to a tenth, rounded half up as the page's Math.round does."""
    return math.floor(share * 1000 + 0.5) / 10


def _figure(bucket: dict[str, Any]) -> float | None:
    return None if bucket["csat"] is None else _tenths(bucket["csat"])


def test_the_dashboard_shows_the_apis_numbers_in_both_languages_and_downloads_every_rating(
    stack, open_staff, put_stack_store
):
    from chalicelib.domain.survey import DEFAULT_SURVEY
    from tests.conftest import make_store

    rng = random.Random(15)
    region = f"dash-{uuid.uuid4().hex[:6]}"
    store_id, other_id = f"{region}-a", f"{region}-b"
    survey = DEFAULT_SURVEY.model_copy(update={"ask_expectation": True})
    for store in (store_id, other_id):
        put_stack_store(make_store(store, timezone=ZONE, region=region, survey=survey))
    sent = _seed(stack, store_id, 240, rng)
    _seed(stack, other_id, 40, rng)

    today = datetime.now(ZoneInfo(ZONE)).date()
    period = f"from={today - timedelta(days=27)}&to={today}"
    by_day = f"/v1/stores/{store_id}/satisfaction?granularity=day&{period}"
    wait_until(
        lambda: sum(b["responses"] for b in _api(stack, by_day)["buckets"]) == len(sent),
        timeout=90,
        message="the scheduled run did not count the seeded ratings",
    )

    page = open_staff(viewport={"width": 1280, "height": 900})
    sign_in(page, stack.demo["admin_token"])
    page.fill("#store-input", store_id)
    page.click("#store-form button[type=submit]")
    page.wait_for_selector("#screen-tasks:not([hidden])")
    started = time.perf_counter()
    page.click("#dashboard-open")
    wait_until(
        lambda: page.evaluate("Boolean(document.getElementById('dash-trend')?.chart)"),
        message=f"no trend chart: {page.text_content('#dash-status')}",
    )
    print(f"\ndashboard loaded in {1000 * (time.perf_counter() - started):.0f} ms")

    figures = _api(stack, by_day)
    # The trend: this period's CSAT per day and the period before, as the API gives them.
    chart = page.evaluate("document.getElementById('dash-trend').chart.data")
    drawn = {x: value for x, value in zip(chart[0], chart[1], strict=True) if value is not None}
    day_key = lambda start: round(datetime.fromisoformat(start).timestamp() / 86400) * 86400  # noqa: E731
    assert drawn == {day_key(b["start"]): _figure(b) for b in figures["buckets"]}
    low = {x: v for x, v in zip(chart[0], chart[3], strict=True) if v is not None}
    assert low == {day_key(b["start"]): _tenths(b["csat_interval"][0]) for b in figures["buckets"]}

    # The table view: a row per bucket with its answers.
    page.click("#dash-table summary")
    rows = page.locator("#dash-table tr[data-start]")
    assert rows.count() == len(figures["buckets"])
    assert [int(rows.nth(i).locator("td").nth(1).text_content()) for i in range(rows.count())] == [
        b["responses"] for b in figures["buckets"]
    ]

    def shown(chart_name: str) -> dict[str, str]:
        table = page.locator(f'[data-chart="{chart_name}"] tr[data-key]')
        return {
            table.nth(i).get_attribute("data-key"): table.nth(i).get_attribute("data-value")
            for i in range(table.count())
        }

    summed: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for bucket in figures["buckets"]:
        for part in ("reasons", "expectation"):
            for key, count in bucket[part].items():
                summed[part][key] += count
        for key, channel in bucket["channels"].items():
            summed["channels"][key] += channel["responses"]
        for key, kiosk in bucket["kiosks"].items():
            summed["kiosks"][key] += kiosk["responses"]
    for part in ("reasons", "expectation", "channels", "kiosks"):
        assert shown(part) == {k: str(n) for k, n in summed[part].items()}, part
    assert summed["kiosks"]
    assert sum(summed["kiosks"].values()) == len(sent)

    # The heat map: CSAT per weekday and hour of the hour buckets (the last 31 days at most).
    hours = _api(
        stack,
        f"/v1/stores/{store_id}/satisfaction?granularity=hour&{period}",
    )
    cells: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
    for bucket in hours["buckets"]:
        local = datetime.fromisoformat(bucket["start"])
        cell = cells[f"{local.weekday()}-{local.hour}"]
        cell[0] += bucket["responses"]
        cell[1] += (_figure(bucket) or 0) * bucket["responses"]
    heat = page.evaluate(
        "[...document.querySelectorAll('#dash-heat td[data-value]')]"
        ".map(td => [td.dataset.cell, td.dataset.responses, td.dataset.value])"
    )
    assert {c: (int(n), int(v)) for c, n, v in heat} == {
        key: (int(n), math.floor(total / n + 0.5)) for key, (n, total) in cells.items() if n
    }

    # The store against its region: the region's total from its counts; the ranking.
    page.wait_for_selector("#dash-rank", state="attached")
    area = _api(stack, f"/v1/satisfaction?region={region}&granularity=day&{period}")
    answers = sum(b["responses"] for b in area["total"]["buckets"])
    weighted = sum((_figure(b) or 0) * b["responses"] for b in area["total"]["buckets"])
    total = float(page.get_attribute('[data-chart="region"] tr[data-key="total"]', "data-value"))
    assert abs(total - weighted / answers) < 1e-9
    assert {page.locator("#dash-rank tr").nth(i).get_attribute("data-key") for i in range(2)} == {
        store_id,
        other_id,
    }

    # The language switch: the dashboard's words follow; the numbers stay.
    page.click('#languages [data-locale="zh-CN"]')
    wait_until(lambda: "的表现" in page.text_content("#dash-title"))
    assert "周一" in page.text_content("#dash-heat")
    assert shown("kiosks") == {k: str(n) for k, n in summed["kiosks"].items()}
    page.click('#languages [data-locale="en"]')
    wait_until(lambda: page.text_content("#dash-title").startswith("How"))

    # The ratings CSV: every stored rating once, as stored, a formula neutralised.
    with page.expect_download() as download:
        page.click('[data-csv="ratings"]')
    raw = download.value.path().read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    assert text.splitlines()[0] == RATINGS_HEADER
    exported = {row["rating_id"]: row for row in csv.DictReader(io.StringIO(text))}
    assert set(exported) == set(sent)
    for rating_id, rating in sent.items():
        row = exported[rating_id]
        assert row["kiosk_id"] == rating["kiosk_id"]
        assert int(row["score"]) == rating["score"]
        assert (row["reasons"].split(";") if row["reasons"] else []) == rating["reasons"]
        assert row["expectation"] == rating["expectation"]
        if rating["comment"]:
            assert row["comment"] == "'" + rating["comment"]
    tapped = [row["tapped_at"] for row in exported.values()]
    assert tapped == sorted(tapped)  # rows by tap time
