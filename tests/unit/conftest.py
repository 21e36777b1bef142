"""Unit tests: plain values, moto and `chalice.test.Client`, no DynamoDB Local (Java) and no
browser, so `make test-fast` needs neither.

Properties run with the hypothesis profile HYPOTHESIS_PROFILE names: "default" keeps the layer
fast, "thorough" tries ten times as many examples (before a release, or after a change to the
aggregation):

    HYPOTHESIS_PROFILE=thorough .venv/bin/python -m pytest -m unit
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("default", max_examples=100)  # hypothesis's own count
settings.register_profile("thorough", max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or "default")
