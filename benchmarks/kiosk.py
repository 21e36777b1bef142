"""Kiosk page budgets, in headless Chromium against the local stack.

    .venv/bin/python -m benchmarks.kiosk
    .venv/bin/python -m benchmarks.kiosk --quick      # a tenth of the taps

1. Transferred size of a first load (the page's own files, and with the API calls).
2. Tap-to-thank-you with the network off: the tap stores the rating in IndexedDB and shows
   the follow-up screen, which opens with "Thank you!"; and skip-to-thank-you-screen.
Budgets (README, Benchmarks): under 100 KB, under 100 ms. Prints figures; always exits 0.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from benchmarks.common import ROOT, scaled, verdict
from devtools.chromium import launch
from devtools.stack_process import LocalStack

TAPS = scaled(40)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="kiosk-bench-") as local:
        stack = LocalStack(Path(local))
        demo = stack.start()
        try:
            measure(demo)
        finally:
            stack.stop()


def measure(demo: dict[str, str]) -> None:
    on_disk = sum(p.stat().st_size for p in (ROOT / "kiosk").iterdir() if p.is_file())
    with sync_playwright() as playwright:
        browser = launch(playwright)
        page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
        sizes: dict[str, int] = {}

        def record(response):  # type: ignore[no-untyped-def]
            body = response.request.sizes()
            sizes[response.url] = body["responseBodySize"] + body["responseHeadersSize"]

        page.on("response", record)
        page.goto(demo["kiosk_url"].replace("#", "?thanks=300&sync=3600000#"))
        page.wait_for_selector(".face")
        page.wait_for_load_state("networkidle")
        pages_origin = demo["kiosk_url"].split("/kiosk/")[0]
        own = sum(size for url, size in sizes.items() if url.startswith(pages_origin))
        total = sum(sizes.values())

        page.context.set_offline(True)
        skip_to_thanks = []
        for index in range(TAPS):
            page.click(f'.face[data-score="{3 + index % 3}"]')
            page.wait_for_selector("#screen-followup:not([hidden])")
            start = page.evaluate("performance.now()")
            page.click("#followup-skip")
            page.wait_for_selector("#screen-thanks:not([hidden])")
            skip_to_thanks.append(page.evaluate("performance.now()") - start)
            page.wait_for_selector("#screen-rate:not([hidden])")
        taps = page.evaluate("window.kioskTimings")
        queued = page.get_attribute("#sync-status", "data-waiting")
        browser.close()

    tap_median, tap_p95 = statistics.median(taps), statistics.quantiles(taps, n=20)[-1]
    print("1. Transferred on a first load (bytes, headers included)")
    print(f"   kiosk files      {own:>8,}   {verdict(own / 1000, 100, below=True)} KB")
    print(f"   with API calls   {total:>8,}   ({len(sizes)} responses)")
    print(f"   files on disk    {on_disk:>8,}   (no build step: served as they are)")
    print(f"\n2. Network off, {TAPS} taps ({queued} waiting in the IndexedDB queue after)")
    print(
        f"   tap -> 'Thank you!' shown (rating in IndexedDB)  median {tap_median:6.1f} ms  "
        f"p95 {tap_p95:6.1f} ms   {verdict(tap_p95, 100, below=True)}"
    )
    print(
        f"   skip -> thank-you screen                         median "
        f"{statistics.median(skip_to_thanks):6.1f} ms  (measured from the test driver)"
    )


if __name__ == "__main__":
    main()
    sys.exit(0)
