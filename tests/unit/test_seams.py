"""storage/ alone knows the keys: no other code, devtool, benchmark or test spells a key
format. They ask storage for models and ids, and tests that look at a stored item read it
through a storage function (`ratings.stored_rating`, `tasks.stored_contact`, ...).

Tests of storage itself, files named `test_storage_*.py`, may spell keys: checking the stored
layout is what they are for.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("functions", "devtools", "benchmarks", "tests")
STORAGE = "functions/chalicelib/storage/"
KEY_FORMATS = re.compile(
    r"\b[A-Z][A-Z0-9_]{2,}#"  # a key prefix: RATING#, PHONE#, TASK#, AGG#...
    r"|\bgsi\d"  # an index key attribute: gsi1pk, gsi2sk
    r"|\b(?:pk|sk)\b"  # the table's key attributes
)


def scanned_files() -> list[str]:
    """The files of the scanned folders, committed or not (git's ignores apply)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", *SCANNED],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    this = Path(__file__).relative_to(ROOT).as_posix()
    return [
        name
        for name in listed
        if name != this
        and not name.startswith(STORAGE)
        and not Path(name).name.startswith("test_storage_")
        and (ROOT / name).is_file()
    ]


def test_no_key_format_outside_storage_and_its_tests():
    places = [
        f"{name}:{number}: {line.strip()}"
        for name in scanned_files()
        for number, line in enumerate(
            (ROOT / name).read_text(encoding="utf-8", errors="ignore").splitlines(), start=1
        )
        if KEY_FORMATS.search(line)
    ]

    assert places == [], "key formats outside storage/:\n" + "\n".join(places)


def test_the_pattern_finds_what_it_is_for():
    spelled = [
        'Key={"pk": {"S": f"RATING#{rating_id}"}, "sk": {"S": "RATING"}}',
        'assert "gsi1pk" not in item',
        'FilterExpression="begins_with(pk, :rating)"',
        '{":pk": {"S": "CALLBACK_REQUESTS"}}',
    ]
    plain = ['rating["rating_id"]', "ratings.stored_rating(rating_id)", "# a comment", "ask"]

    assert all(KEY_FORMATS.search(line) for line in spelled)
    assert not any(KEY_FORMATS.search(line) for line in plain)
