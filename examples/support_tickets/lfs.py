"""Labeling functions for the support-ticket example (6 classes; project written by `labelgate init`).

Each LF votes a class index (the constants below, in data.classes order) or ABSTAIN (-1) on ``body``.
"""

from labelgate.labeling import ABSTAIN, keyword_lf, labeling_function, regex_lf

TEXT = "body"
ACCOUNT = 0  # 'account'
BILLING = 1  # 'billing'
BUG = 2  # 'bug'
FEATURE_REQUEST = 3  # 'feature_request'
PRAISE = 4  # 'praise'
SHIPPING = 5  # 'shipping'

account_words = keyword_lf("account_words", ["log in", "password", "username", "locked", "two-factor",
                                             "email address", "delete my account"], label=ACCOUNT, column=TEXT)
billing_words = keyword_lf("billing_words", ["charged", "invoice", "refund", "billed", "fee", "receipt", "bill"],
                           label=BILLING, column=TEXT, whole_word=True)
bug_words = keyword_lf("bug_words", ["crash", "error", "broken", "freezes", "does nothing", "fail"],
                       label=BUG, column=TEXT)
feature_words = keyword_lf("feature_words", ["please add", "would love", "could you support", "would be great",
                                             "can you add", "would help", "option"], label=FEATURE_REQUEST,
                           column=TEXT)
praise_words = keyword_lf("praise_words", ["thank you", "amazing", "love the", "great product", "awesome",
                                           "happy", "best app"], label=PRAISE, column=TEXT)
shipping_words = keyword_lf("shipping_words", ["package", "parcel", "delivered", "delivery", "courier", "tracking",
                                               "arrived", "ship"], label=SHIPPING, column=TEXT, whole_word=True)
regex_order_late = regex_lf("regex_order_late", r"\border\b.*\b(not arrived|late|ship)\b", label=SHIPPING,
                            column=TEXT)
regex_error_code = regex_lf("regex_error_code", r"\berror\s*\d{3}\b", label=BUG, column=TEXT)


@labeling_function()
def thanks_only(x) -> int:
    """A short ticket that thanks and asks nothing is praise."""
    text = (x.body or "").lower()
    return PRAISE if "thank" in text and "?" not in text and len(text.split()) < 12 else ABSTAIN
