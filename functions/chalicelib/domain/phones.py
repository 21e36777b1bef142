"""Phone numbers: strict E.164 validation and masking (numbers are PII, never shown in clear)."""

from __future__ import annotations

import re

# Used with fullmatch: `$` would also match before a trailing newline ("+1...\n").
_E164 = re.compile(r"\+[1-9]\d{6,14}")


def parse_e164(value: str) -> str:
    """Return `value` if it is a valid, dialable E.164 number, else raise ValueError."""
    if not _E164.fullmatch(value):
        raise ValueError("phone must be an E.164 number such as +14155550123")
    # Imported here: its metadata costs cold-start time and most ratings carry no phone.
    import phonenumbers

    number = phonenumbers.parse(value, None)
    if not phonenumbers.is_valid_number(number):
        raise ValueError("phone is not a valid number for its country code")
    return value


def mask_phone(phone: str) -> str:
    """`+14155550123` -> `+1******0123`: the country code and the last four digits."""
    digits = phone.lstrip("+")
    country_len = _country_code_length(digits)
    hidden = max(len(digits) - country_len - 4, 0)
    return f"+{digits[:country_len]}{'*' * hidden}{digits[-4:]}"


def _country_code_length(digits: str) -> int:
    import phonenumbers

    for length in (1, 2, 3):
        if phonenumbers.region_code_for_country_code(int(digits[:length])) != "ZZ":
            return length
    return 1


def phone_key(phone: str, secret_key: str) -> str:
    """A keyed HMAC of the number: look-ups by phone without storing or hashing it plainly
    (an unkeyed hash of every possible number is brute-forced in minutes)."""
    import hashlib
    import hmac

    return hmac.new(secret_key.encode(), phone.encode(), hashlib.sha256).hexdigest()[:40]


def local_time_zone(phone: str) -> str | None:
    """The number's time zone when its prefix has exactly one, else None."""
    import phonenumbers
    from phonenumbers import timezone

    zones = timezone.time_zones_for_number(phonenumbers.parse(phone, None))
    return zones[0] if len(zones) == 1 and zones[0] != "Etc/Unknown" else None
