"""Labeling functions for the YouTube Spam Collection (in the spirit of Snorkel's spam tutorial).

Each LF votes SPAM (1), HAM (0) or abstains (-1) on the ``CONTENT`` column. Keyword and regex LFs are
vectorised (they label a whole column at once); ``short_comment`` shows a plain per-row LF.
"""

from labelgate.labeling import ABSTAIN, keyword_lf, labeling_function, predicate_lf, regex_lf

HAM, SPAM = 0, 1
TEXT = "CONTENT"

keyword_my = keyword_lf("keyword_my", ["my"], label=SPAM, column=TEXT, whole_word=True)
keyword_subscribe = keyword_lf("keyword_subscribe", ["subscribe", "subscribers", "sub4sub"], label=SPAM, column=TEXT)
keyword_link = keyword_lf("keyword_link", ["http", "www.", ".com"], label=SPAM, column=TEXT)
keyword_please = keyword_lf("keyword_please", ["please", "plz", "pls"], label=SPAM, column=TEXT, whole_word=True)
keyword_channel = keyword_lf("keyword_channel", ["channel"], label=SPAM, column=TEXT)
keyword_money = keyword_lf(
    "keyword_money", ["free", "money", "gift card", "earn", "cash", "$"], label=SPAM, column=TEXT
)
regex_check_out = regex_lf("regex_check_out", r"check.*out", label=SPAM, column=TEXT)
keyword_song = keyword_lf("keyword_song", ["song", "songs"], label=HAM, column=TEXT, whole_word=True)
keyword_love = keyword_lf("keyword_love", ["love", "best", "awesome", "amazing"], label=HAM, column=TEXT,
                          whole_word=True)
regex_views = regex_lf("regex_views", r"\b\d+(\.\d+)?\s*(b|m|billion|million)\b|\bviews\b", label=HAM, column=TEXT)


def _mostly_capitals(frame):
    """Shouting: more than half the characters (of at least 20) are capital letters."""
    text = frame[TEXT].fillna("").astype("string[pyarrow]")  # Arrow-backed: vectorised string kernels
    return text.str.count(r"[A-Z]") > 0.5 * text.str.len().clip(lower=20)


lots_of_caps = predicate_lf("lots_of_caps", _mostly_capitals, label=SPAM)


@labeling_function()
def short_comment(x) -> int:
    """Ham comments are often short: a few words of praise or a reaction."""
    words = (x.CONTENT or "").split()
    return HAM if len(words) < 5 else ABSTAIN
