"""Reading SMS replies with plain strings: real-world replies, the tricky ones included."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.sms_replies import (
    HELP_KEYWORDS,
    OPT_IN_KEYWORDS,
    OPT_OUT_KEYWORDS,
    Keyword,
    match_keyword,
    parse_score,
    parse_yes_no,
)

pytestmark = pytest.mark.unit

AWS_OPT_OUT_KEYWORDS = [
    "ARRET",
    "CANCEL",
    "END",
    "OPT-OUT",
    "OPTOUT",
    "QUIT",
    "REMOVE",
    "STOP",
    "TD",
    "UNSUBSCRIBE",
]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # The keywords, however they are typed.
        ("STOP", Keyword.OPT_OUT),
        (" stop! ", Keyword.OPT_OUT),
        ("Stop.", Keyword.OPT_OUT),
        ("STOP STOP", Keyword.OPT_OUT),
        ("stop please", Keyword.OPT_OUT),
        ("Stop all", Keyword.OPT_OUT),
        ("opt out", Keyword.OPT_OUT),
        ("Opt-Out", Keyword.OPT_OUT),
        ("T.D.", Keyword.OPT_OUT),
        ("Arrêt", Keyword.OPT_OUT),
        ("退订", Keyword.OPT_OUT),
        ("回复退订", Keyword.OPT_OUT),
        ("END", Keyword.OPT_OUT),
        # Plain requests to stop.
        ("please stop texting me", Keyword.OPT_OUT),
        ("Stop texting me!!", Keyword.OPT_OUT),
        ("Stop messaging this number", Keyword.OPT_OUT),
        ("stop sending me these", Keyword.OPT_OUT),
        ("Don't text me again", Keyword.OPT_OUT),
        ("don’t text me again", Keyword.OPT_OUT),
        ("Do not contact me", Keyword.OPT_OUT),
        ("unsubscribe me", Keyword.OPT_OUT),
        ("How do I unsubscribe?", Keyword.OPT_OUT),
        ("Remove me from your list", Keyword.OPT_OUT),
        ("remove me please", Keyword.OPT_OUT),
        ("Take me off your list", Keyword.OPT_OUT),
        ("No more texts please", Keyword.OPT_OUT),
        ("opt me out", Keyword.OPT_OUT),
        ("Stop it", Keyword.OPT_OUT),
        ("请不要再发短信", Keyword.OPT_OUT),
        ("别再发了！", Keyword.OPT_OUT),
        ("不要再给我发短信了", Keyword.OPT_OUT),
        ("不想再收到短信", Keyword.OPT_OUT),
        # Complaints that only contain a keyword's word.
        ("the staff would not stop talking", None),
        ("4 but the queue never ended", None),
        ("the end", None),
        # Begins with STOP: AWS End User Messaging opts this number out, so we do too.
        ("Stop the music, it was too loud", Keyword.OPT_OUT),
        ("Cancel my order, the staff were rude", Keyword.OPT_OUT),
        ("I had to cancel my order", None),
        ("The cashier kept messaging on her phone", None),
        ("No more bags at the till", None),
        ("别再发错货了", None),
        ("不用发票了", None),
        # Opt-in and help.
        ("START", Keyword.OPT_IN),
        ("unstop", Keyword.OPT_IN),
        ("yes", None),  # a survey answer here, not consent to more texts
        ("Help", Keyword.HELP),
        ("info?", Keyword.HELP),
        ("帮助", Keyword.HELP),
        ("help me find the shoes", None),
        ("", None),
    ],
)
def test_match_keyword(text, expected):
    assert match_keyword(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4", 4),
        (" 5! ", 5),
        ("5.", 5),
        ("４", 4),
        ("4️⃣", 4),
        ("4/5", 4),
        ("4 / 5", 4),
        ("4 out of 5", 4),
        ("four", 4),
        ("Four stars", 4),
        ("four out of five", 4),
        ("Four, the queue was long", 4),
        ("4 stars", 4),
        ("5stars", 5),
        ("1 star - rude staff", 1),
        ("4星", 4),
        ("4颗星", 4),
        ("五星好评", 5),
        ("⭐⭐⭐⭐", 4),
        ("⭐️⭐️⭐️", 3),
        ("★★★★☆", 4),
        ("4分", 4),
        ("四", 4),
        ("四分", 4),
        ("两星", 2),
        ("2 the queue was long", 2),
        ("1 waited 45 minutes", 1),
        ("5 5", 5),
        ("3 👍", 3),
        ("非常满意", 5),
        ("十分满意！", 5),
        ("我很满意", 5),
        ("满意", 4),
        ("满意，谢谢", 4),
        ("一般", 3),
        ("不满意", 2),
        ("非常不满意", 1),
        # Not a score on a 1-5 survey.
        ("great", None),
        ("Excellent!", None),
        ("7", None),
        ("0", None),
        ("10/10", None),
        ("4/10", None),
        ("3 or 4", None),
        ("3-4", None),
        ("三到四", None),
        ("5, thanks to Amy at till 3", None),
        ("4.5", None),
        ("2 hours wait", None),
        ("3 people ahead of me", None),
        ("10分钟", None),
        ("等了10分钟", None),
        ("2nd time this week", None),
        ("10:30 visit", None),
        ("one of the staff was rude", None),
        ("一直排队", None),
        ("满意度很低", None),
        ("<3", None),
        ("☆☆☆☆☆", None),
        ("I'd give it a 4", None),
        ("", None),
        ("5 stop texting me", None),  # an opt-out wins
        ("STOP", None),
    ],
)
def test_parse_score_on_five_points(text, expected):
    assert parse_score(text, 1, 5) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10", 10),
        ("10/10", 10),
        ("0", 0),
        ("zero", 0),
        ("7 out of 10", 7),
        ("十", 10),
        ("十分", 10),
        ("十分满意", 10),
        ("满意", 8),
        ("一般", 5),
        ("不满意", 3),
        ("非常不满意", 0),
        ("4/5", None),
        ("11", None),
        ("十一", None),
        ("9 or 10", None),
    ],
)
def test_parse_score_on_ten_points(text, expected):
    assert parse_score(text, 0, 10) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("非常满意", 3), ("满意", 2), ("一般", 2), ("不满意", 2), ("非常不满意", 1)],
)
def test_satisfaction_words_on_three_points_keep_the_ends_for_the_strong_words(text, expected):
    assert parse_score(text, 1, 3) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("yes", True),
        ("Y", True),
        ("Yeah!", True),
        ("yep", True),
        ("sure", True),
        ("OK.", True),
        ("okay", True),
        ("please", True),
        ("Yes please", True),
        ("yes, thanks", True),
        ("是", True),
        ("是的。", True),
        ("好", True),
        ("好的", True),
        ("要", True),
        ("需要", True),
        ("no", False),
        ("N", False),
        ("Nope", False),
        ("No thanks", False),
        ("no, thank you", False),
        ("不", False),
        ("不用", False),
        ("不用，谢谢", False),
        ("不要", False),
        ("否", False),
        ("不需要", False),
        ("thanks", None),
        ("maybe", None),
        ("yes no", None),
        ("yes, 4", None),
        ("Not now", None),
        ("no more texts", None),  # an opt-out, not a no
        ("STOP", None),
        ("", None),
    ],
)
def test_parse_yes_no(text, expected):
    assert parse_yes_no(text) is expected


def test_opt_out_keywords_include_every_aws_default():
    assert set(AWS_OPT_OUT_KEYWORDS) <= set(OPT_OUT_KEYWORDS)
    assert not set(OPT_OUT_KEYWORDS) & (set(OPT_IN_KEYWORDS) | set(HELP_KEYWORDS))


PADDING = st.text(alphabet=" \t!.?,;:。！？，…\"'()", max_size=4)


@given(
    scale=st.sampled_from([(1, 5), (0, 10), (1, 10), (1, 3)]),
    data=st.data(),
    before=PADDING,
    after=PADDING,
)
def test_any_score_on_the_scale_reads_as_itself(scale, data, before, after):
    low, high = scale
    score = data.draw(st.integers(min_value=low, max_value=high))

    assert parse_score(f"{before}{score}{after}", low, high) == score


@given(
    keyword=st.sampled_from(OPT_OUT_KEYWORDS),
    upper=st.lists(st.booleans(), min_size=12, max_size=12),
    before=PADDING,
    after=PADDING,
)
def test_any_opt_out_keyword_however_typed_opts_out(keyword, upper, before, after):
    typed = "".join(
        char.upper() if up else char.lower() for char, up in zip(keyword, upper, strict=False)
    )
    text = f"{before}{typed}{after}"

    assert match_keyword(text) is Keyword.OPT_OUT
    assert parse_score(text, 1, 5) is None
    assert parse_yes_no(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1", "worse"),
        ("2", "as_expected"),
        ("3", "better"),
        (" 3! ", "better"),
        ("3️⃣", "better"),
        ("３", "better"),
        ("1 worse", "worse"),
        ("2 as expected", "as_expected"),
        ("Worse", "worse"),
        ("worse than expected", "worse"),
        ("As expected.", "as_expected"),
        ("about the same", "as_expected"),
        ("Better, thanks", "better"),
        ("much better", "better"),
        ("更差", "worse"),
        ("比预期差", "worse"),
        ("符合预期", "as_expected"),
        ("差不多", "as_expected"),
        ("3更好", "better"),
        ("超出预期！", "better"),
        # Not an answer: skipped, never asked again.
        ("4", None),
        ("10", None),
        ("2 hours", None),
        ("3 worse", None),
        ("1 or 2", None),
        ("maybe", None),
        ("the queue was long", None),
        ("", None),
        ("STOP", None),
    ],
)
def test_expectation_answers(text, expected):
    from chalicelib.domain.sms_replies import parse_expectation

    assert parse_expectation(text) == expected
