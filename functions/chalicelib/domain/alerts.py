"""When a store's recent satisfaction is significantly worse than its own baseline.

The rule, so that 2 sad taps out of 3 at 07:00 never page a manager:
- the window (the last closed hour, or the last closed day) has at least MIN_RESPONSES
  answers, and the baseline (the store's BASELINE_DAYS whole days before the window's day)
  at least MIN_BASELINE_RESPONSES;
- the upper end of the 95% Wilson score interval of the window's CSAT is below the
  baseline's CSAT: even the most favourable reading of the window is worse than usual.

One alert per incident: an alert starts a cool-down of the store (`alert_cooldown_hours`)
during which it gets no other alert, and a window that overlaps an alerted one (the bad day
that holds an alerted hour) is the same incident, never alerted on its own.
"""

from __future__ import annotations

import math
from datetime import datetime

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
    """How many of the tally's answers count as satisfied on this scale."""
    return sum(n for score, n in tally.distribution.items() if int(score) >= top_box(scale))


def significantly_worse(window: Tally, baseline: Tally, scale: Scale) -> bool:
    """True when the window's CSAT is worse than the baseline's beyond reasonable doubt."""
    if window.responses < MIN_RESPONSES or baseline.responses < MIN_BASELINE_RESPONSES:
        return False
    _, upper = wilson_interval(satisfied(window, scale), window.responses)
    return upper < satisfied(baseline, scale) / baseline.responses


def alert_message(
    *,
    store_name: str,
    period: str,
    start: datetime,
    window: Tally,
    baseline: Tally,
    scale: Scale,
    quiet_until: datetime,
) -> str:
    """What a manager reads: the window's CSAT with its 95% interval and answers, the
    baseline's CSAT and answers, the top reasons, and when the next alert can come."""
    lower, upper = wilson_interval(satisfied(window, scale), window.responses)
    csat = satisfied(window, scale) / window.responses
    usual = satisfied(baseline, scale) / baseline.responses
    reasons = ", ".join(
        f"{name} ({count})"
        for name, count in sorted(window.reasons.items(), key=lambda r: (-r[1], r[0]))[:3]
    )
    return (
        f"{store_name}: satisfaction in the {period} from {start:%Y-%m-%d %H:%M} was "
        f"{csat:.0%} (95% interval {100 * lower:.0f}-{upper:.0%}, {window.responses} answers; "
        f"{top_box(scale)}+ counts as satisfied), against {usual:.0%} over the previous "
        f"{BASELINE_DAYS} days ({baseline.responses} answers)."
        + (f" Top reasons: {reasons}." if reasons else "")
        + f" No further alert for this store until {quiet_until:%Y-%m-%d %H:%M}."
    )
