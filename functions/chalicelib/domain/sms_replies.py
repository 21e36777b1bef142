"""Reading inbound SMS replies: keywords, scores and yes/no answers.

Every reader ignores case, surrounding whitespace and punctuation, the full-width digits and
punctuation of Chinese keyboards, and emoji variation selectors; it returns None when unsure.

Keywords (`match_keyword`), checked in this order, so an opt-out wins over anything else:
- opt-out: the whole message is one of OPT_OUT_KEYWORDS (`STOP`, `stop!`, `Stop.`, `STOP STOP`,
  `opt out`, `stop please`, `Arrêt`, `退订`), or a plain request to stop: `please stop texting me`,
  `stop sending me these`, `don't text me again`, `unsubscribe me`, `remove me from your list`,
  `take me off your list`, `no more texts`, `opt me out`, any message with `unsubscribe` or
  `退订`, `请不要再发短信`, `别再发了`, `不想再收到短信`. A complaint that merely contains a
  keyword (`the staff would not stop talking`, `4 but the queue never ended`) is not one.
- opt-in: the whole message is `START` or `UNSTOP`.
- help: the whole message is `HELP`, `INFO` or `帮助`.

Scores (`parse_score`), read from the start of the message; a comment may follow (`2 the
queue was long`):
- digits: `4`, ` 5! `, `4️⃣`, `10` (on a 0-10 scale);
- a fraction whose denominator is the scale's maximum: `4/5`, `4 / 5`, `4 out of 5`, `10/10`;
- number words, alone or with a unit: `four`, `Four stars`, `四`, `四分`, `十`, `两星`;
- a unit: `4 stars`, `4星`, `4颗星`, `4分`, `4 points`;
- a run of stars, counting the filled ones: `⭐⭐⭐⭐`, `★★★★☆`;
- Chinese satisfaction words, placed on the scale by SATISFACTION_LEVELS (on 1-5: 非常满意 5,
  满意 4, 一般 3, 不满意 2, 非常不满意 1; on 0-10: 10, 8, 5, 3, 0), also after 我/总体
  (`我很满意`).
Not scores (None): words of praise (`great`, `excellent`), numbers outside the scale (`7` on
1-5), a denominator other than the maximum (`4/10` on 1-5), decimals (`4.5`), two different
numbers (`3 or 4`, `3-4`, `5, thanks to till 3`), quantities (`2 hours`, `10分钟`, `3个人`),
times and ordinals (`10:30`, `2nd`), a number word starting a sentence (`one of the staff`,
`一直排队`), and any opt-out.

Yes/no (`parse_yes_no`), the whole message, optionally with `please` or `thanks`:
- True: yes, y, yeah, yep, yup, sure, ok, okay, please, 是, 是的, 好, 好的, 要, 需要, 可以;
- False: no, n, nope, nah, no thanks, 不, 不用, 不要, 否, 不需要, 不用了, 不要了, 不需要了.

Expectation (`parse_expectation`), the answer to "compared with what you expected, was it
worse, as expected or better? Reply 1 worse, 2 as expected, 3 better": the whole message is
`1`/`2`/`3`, one of EXPECTATION_WORDS (`worse`, `as expected`, `about the same`, `better`,
`更差`, `符合预期`, `更好` ...), or the digit with its own words (`3 better`, `3更好`),
optionally with `thanks`. Anything else is None: another number (`4`, `10`), a digit with
other words (`2 hours`, `3 worse`), two answers (`1 or 2`), an opt-out.
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum

from .survey import Expectation


class Keyword(StrEnum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"


# AWS End User Messaging SMS's required opt-out keywords (ARRET ... UNSUBSCRIBE), which AWS acts
# on by itself; matching them too keeps our consent records in step with its opt-out list.
# STOPALL is Twilio's; 退订 ("unsubscribe") is the customary opt-out reply in mainland China.
OPT_OUT_KEYWORDS = (
    "STOP",
    "STOPALL",
    "UNSUBSCRIBE",
    "CANCEL",
    "END",
    "QUIT",
    "REMOVE",
    "OPTOUT",
    "OPT-OUT",
    "ARRET",
    "TD",
    "退订",
)
# The keywords AWS uses to resubscribe a number. YES is Twilio's too, but here YES answers
# survey questions (parse_yes_no), so it must not double as consent to more texts.
OPT_IN_KEYWORDS = ("START", "UNSTOP")
HELP_KEYWORDS = ("HELP", "INFO", "帮助")

# Where each Chinese satisfaction word sits between the scale's min (0.0) and max (1.0).
SATISFACTION_LEVELS = {
    "非常满意": 1.0,
    "十分满意": 1.0,
    "特别满意": 1.0,
    "很满意": 1.0,
    "比较满意": 0.75,
    "满意": 0.75,
    "一般般": 0.5,
    "一般": 0.5,
    "不太满意": 0.25,
    "不是很满意": 0.25,
    "不满意": 0.25,
    "非常不满意": 0.0,
    "十分不满意": 0.0,
    "特别不满意": 0.0,
    "很不满意": 0.0,
}

YES_WORDS = frozenset(
    {"yes", "y", "yeah", "yep", "yup", "sure", "ok", "okay", "please"}
    | {"是", "是的", "好", "好的", "要", "需要", "可以"}
)
NO_WORDS = frozenset(
    {"no", "n", "nope", "nah"}
    | {"不", "不用", "不要", "否", "不需要", "不用了", "不要了", "不需要了"}
)

# What a reply to the expectation question may say (lower-case words, as `_words` leaves them).
EXPECTATION_DIGITS: dict[str, Expectation] = {"1": "worse", "2": "as_expected", "3": "better"}
_EXPECTATION_ANSWERS: dict[Expectation, tuple[str, ...]] = {
    "worse": (
        "worse",
        "worse than expected",
        "worse than i expected",
        "much worse",
        "a bit worse",
        "更差",
        "较差",
        "比预期差",
        "不如预期",
        "没有预期好",
    ),
    "as_expected": (
        "as expected",
        "as i expected",
        "expected",
        "what i expected",
        "about as expected",
        "same",
        "the same",
        "about the same",
        "符合预期",
        "和预期一样",
        "与预期一样",
        "跟预期一样",
        "一样",
        "差不多",
        "预期之内",
    ),
    "better": (
        "better",
        "better than expected",
        "better than i expected",
        "much better",
        "a bit better",
        "更好",
        "比预期好",
        "好于预期",
        "超出预期",
        "超预期",
    ),
}
EXPECTATION_WORDS: dict[str, Expectation] = {
    word: expectation for expectation, words in _EXPECTATION_ANSWERS.items() for word in words
}
_EXPECTATION = re.compile(r"(?P<digit>[123])(?!\d)\s*(?P<rest>.*)")

# Zero-width characters, the emoji variation selector and the keycap mark (4️⃣ is 4).
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\ufe0e\ufe0f\u20e3"))
_APOSTROPHES = dict.fromkeys(map(ord, "'\u2019\u02bc`"))
_COURTESY = re.compile(r"\b(?:please|pls|plz|thanks|thank you|thx|ty|now)\b|谢谢")
_THANKS = re.compile(r"(?: (?:please|pls|thanks|thank you|thx|ty)| ?谢谢)$")
_WORD = re.compile(r"\w+")

_TEXTING = r"(?:texting|txting|messaging|msging|contacting|spamming)"
_TEXTS = r"(?:texts?|txts?|text messages|messages|msgs|sms|surveys|these|them)"
_ME = r"(?:me|us|this number|my number|my phone)"
# Run against the message's words (lower-cased; no punctuation, apostrophes or "please"). Each
# names the texts or the customer, so complaints about staff that "would not stop" do not match.
_OPT_OUT_REQUESTS = tuple(
    re.compile(pattern)
    for pattern in (
        rf"\b(?:stop|quit|cease) {_TEXTING} {_ME}\b",
        rf"^(?:stop|quit) {_TEXTING}$",
        rf"\b(?:stop|quit) sending (?:{_ME} )?{_TEXTS}\b",
        rf"\b(?:dont|do not|never)(?: ever)? (?:text|txt|message|msg|sms|contact) {_ME}\b",
        rf"\b(?:dont|do not|never) send (?:{_ME} )?(?:any more |anymore )?{_TEXTS}\b",
        rf"\bno more {_TEXTS}\b",
        rf"\b(?:remove|delete) {_ME}(?: (?:from|off)\b|$)",
        rf"\btake {_ME} off\b",
        r"\bunsubscribe\b",
        r"\bopt me out\b",
        r"^(?:i want to |i wish to |i would like to |id like to )?opt out$",
        r"^stop (?:it|this|these|that)$",
        r"退订",
        r"(?:不要|别|请勿|勿|不用|不想)再?(?:给我)?(?:发|发送)(?:了|短信|信息|消息|$)",
        r"(?:不想|不要|别)再?收到?(?:你们的?)?(?:短信|信息|消息)",
    )
)

_NUMBER_WORDS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
    "十": 10,
}
_WORDS_ALTERNATION = "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True))
_NUMBER = rf"(?:\d+(?:[.,:]\d+)?|(?:{_WORDS_ALTERNATION})(?![a-z]))"
_SCORE = re.compile(
    rf"(?P<number>{_NUMBER})"
    rf"(?:\s*(?:/|out of|of)\s*(?P<denominator>{_NUMBER}))?"
    r"(?P<unit>\s*(?:stars?|points?|pts?)\b|颗星|星|分(?!钟))?"
)
_STARS = re.compile(r"[⭐★☆](?:\s*[⭐★☆])*")
_SATISFACTION = re.compile(
    r"(?:我|总体|整体|总的来说)?"
    rf"(?P<word>{'|'.join(sorted(SATISFACTION_LEVELS, key=len, reverse=True))})"
    r"(?:了|的|啊|呀|哦|吧)?(?=$|[\W_]|谢谢|感谢)"
)
# A number followed by one of these counts something other than the score ("2 hours wait").
_QUANTITY = re.compile(
    r"\s*(?:mins?\b|minutes?\b|hrs?\b|hours?\b|days?\b|weeks?\b|people\b|persons?\b|times\b"
    r"|items?\b|dollars?\b|bucks\b|x\b|%|\$|分钟|小时|个|位|次|天|块|元|人)"
)
# A second number joined to the first ("3 or 4", "3-4", "三到四"): the customer hesitated.
_ALTERNATIVE = re.compile(rf"\s*(?:or|to|-|–|~|或者?|到|至|、|,)\s*{_NUMBER}")
_DIGITS = re.compile(r"\d+(?:[.,:]\d+)?")


def match_keyword(text: str) -> Keyword | None:
    """The keyword a reply is, opt-out first: opting out must never be read as anything else."""
    words = " ".join(_WORD.findall(_COURTESY.sub(" ", _words(text))))
    key = words.replace(" ", "")
    first = words.split(" ", 1)[0]
    # AWS End User Messaging acts on a message that *begins* with an opt-out keyword
    # ("Stop it", "Cancel my order"): we do too, so our records never disagree with it.
    begins_with_keyword = _is_keyword(first, OPT_OUT_KEYWORDS)
    if (
        _is_keyword(key, OPT_OUT_KEYWORDS)
        or begins_with_keyword
        or any(p.search(words) for p in _OPT_OUT_REQUESTS)
    ):
        return Keyword.OPT_OUT
    if _is_keyword(key, OPT_IN_KEYWORDS):
        return Keyword.OPT_IN
    if _is_keyword(key, HELP_KEYWORDS):
        return Keyword.HELP
    return None


def parse_score(text: str, scale_min: int, scale_max: int) -> int | None:
    """The score a reply gives on the scale `scale_min..scale_max`, or None when unsure."""
    if match_keyword(text) is Keyword.OPT_OUT:
        return None
    message = _strip_punctuation(_normalise(text))
    read = (
        _read_satisfaction(message, scale_min, scale_max)
        or _read_stars(message)
        or _read_number(message, scale_max)
    )
    if read is None:
        return None
    score, rest = read
    if not scale_min <= score <= scale_max:
        return None
    rivals = {int(number) for number in _DIGITS.findall(rest) if number.isdecimal()}
    if any(scale_min <= rival <= scale_max and rival != score for rival in rivals):
        return None
    return score


def parse_yes_no(text: str) -> bool | None:
    """True for a yes, False for a no, None for anything else (including an opt-out)."""
    if match_keyword(text) is Keyword.OPT_OUT:
        return None
    words = _words(text)
    answer = _THANKS.sub("", words) or words  # "please" alone is a yes
    if answer in YES_WORDS:
        return True
    if answer in NO_WORDS:
        return False
    return None


def parse_expectation(text: str) -> Expectation | None:
    """worse / as_expected / better for a reply to the expectation question, None when unsure
    (including an opt-out): the conversation then skips the question, it never asks twice."""
    if match_keyword(text) is Keyword.OPT_OUT:
        return None
    words = _words(text)
    answer = _THANKS.sub("", words) or words
    match = _EXPECTATION.fullmatch(answer)
    if match is None:
        return EXPECTATION_WORDS.get(answer)
    by_digit = EXPECTATION_DIGITS[match["digit"]]
    rest = match["rest"]
    return by_digit if not rest or EXPECTATION_WORDS.get(rest) == by_digit else None


def _satisfaction_score(level: float, scale_min: int, scale_max: int) -> int:
    # Half up, so 满意 is 8 on 0-10; the in-between words stay off the ends of a scale that has
    # room for them (满意 is 2, not 3, on 1-3).
    score = scale_min + int(level * (scale_max - scale_min) + 0.5)
    if 0.0 < level < 1.0 and scale_max - scale_min >= 2:
        score = min(max(score, scale_min + 1), scale_max - 1)
    return score


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).translate(_INVISIBLE)
    return " ".join(text.casefold().split())


def _words(text: str) -> str:
    # Accents dropped: a Canadian typing "Arrêt" means AWS's ARRET.
    decomposed = unicodedata.normalize("NFD", _normalise(text).translate(_APOSTROPHES))
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(_WORD.findall(unicodedata.normalize("NFC", bare)))


def _strip_punctuation(text: str) -> str:
    # Only punctuation: symbols stay, as stars are symbols and "<3" is no 3.
    start, end = 0, len(text)
    while start < end and _is_punctuation(text[start]):
        start += 1
    while end > start and _is_punctuation(text[end - 1]):
        end -= 1
    return text[start:end]


def _is_punctuation(char: str) -> bool:
    return char.isspace() or unicodedata.category(char).startswith("P")


def _is_keyword(key: str, keywords: tuple[str, ...]) -> bool:
    """Whether `key` is one of `keywords`, once or repeated ("stopstop")."""
    for keyword in keywords:
        wanted = "".join(_WORD.findall(keyword.casefold()))
        if key and len(key) % len(wanted) == 0 and key == wanted * (len(key) // len(wanted)):
            return True
    return False


def _read_satisfaction(message: str, scale_min: int, scale_max: int) -> tuple[int, str] | None:
    match = _SATISFACTION.match(message)
    if match is None:
        return None
    level = SATISFACTION_LEVELS[match["word"]]
    return _satisfaction_score(level, scale_min, scale_max), message[match.end() :]


def _read_stars(message: str) -> tuple[int, str] | None:
    match = _STARS.match(message)
    if match is None:
        return None
    filled = sum(char in "⭐★" for char in match[0])
    return (filled, message[match.end() :]) if filled else None


def _read_number(message: str, scale_max: int) -> tuple[int, str] | None:
    match = _SCORE.match(message)
    if match is None:
        return None
    number, denominator, unit = match["number"], match["denominator"], match["unit"]
    after_number, rest = message[match.end("number") :], message[match.end() :]
    value = _number_value(number)
    if value is None or _QUANTITY.match(after_number) or _ALTERNATIVE.match(after_number):
        return None
    if denominator is not None and _number_value(denominator) != scale_max:
        return None
    if unit is None and rest:
        if number.isdecimal():
            if rest[0].isascii() and rest[0].isalpha():
                return None  # "2nd", "3pm"
        elif rest[0].isalnum() or rest[0] == "_" or (rest[0] == " " and _WORD.match(rest[1:])):
            return None  # "一直", "one of the staff": a number word stands alone or with a unit
    return value, rest


def _number_value(number: str) -> int | None:
    if number.isdecimal():
        return int(number)
    return _NUMBER_WORDS.get(number)  # None for a decimal or a time ("4.5", "10:30")
