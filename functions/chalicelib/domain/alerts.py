"""When a store's recent satisfaction is significantly worse than its own baseline.

The rule, so that 2 sad taps out of 3 at 07:00 never page a manager:
- the window (the last closed hour, or the last closed day) has at least MIN_RESPONSES
  answers, and the baseline (the store's previous BASELINE_DAYS days) at least
  MIN_BASELINE_RESPONSES;
- the upper end of the 95% Wilson score interval of the window's CSAT is below the
  baseline's CSAT: even the most favourable reading of the window is worse than usual.
"""

from __future__ import annotations

import math

from .aggregates import Tally, top_box
from .survey import Scale

MIN_RESPONSES = 10
MIN_BASELINE_RESPONSES = 50
BASELINE_DAYS = 7
Z_95 = 1.96


def wilson_interval(successes: int, trials: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval of a proportion (sound for small samples, unlike p ± z·se)."""
    if trials == 0:
        return 0.0, 1.0
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    margin = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    # At 0 or all successes the bound is exactly 0 or 1; floating point says 1e-17.
    lower = 0.0 if successes == 0 else max(0.0, centre - margin)
    upper = 1.0 if successes == trials else min(1.0, centre + margin)
    return lower, upper


def satisfied(tally: Tally, scale: Scale) -> int:
    return sum(n for score, n in tally.distribution.items() if int(score) >= top_box(scale))


def significantly_worse(window: Tally, baseline: Tally, scale: Scale) -> bool:
    """True when the window's CSAT is worse than the baseline's beyond reasonable doubt."""
    if window.responses < MIN_RESPONSES or baseline.responses < MIN_BASELINE_RESPONSES:
        return False
    _, upper = wilson_interval(satisfied(window, scale), window.responses)
    return upper < satisfied(baseline, scale) / baseline.responses
