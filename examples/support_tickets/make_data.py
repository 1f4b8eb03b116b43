"""Write a small synthetic support-ticket data set (6 classes) for the multi-class example: no download.

    python examples/support_tickets/make_data.py DEST [--seed 7] [--train 1500]

Writes DEST/train.csv (ticket_id, body, channel; no label column: the weak-supervision case), and
DEST/dev.csv, DEST/valid.csv, DEST/test.csv with a string ``category``. Texts combine class-typical phrases
with shared filler, typos and some misleading words, so that keyword LFs are useful but not perfect.
"""

from __future__ import annotations

import argparse
import csv
import random
from pathlib import Path

CLASSES = ("billing", "bug", "account", "shipping", "feature_request", "praise")
PHRASES = {
    "billing": ["I was charged twice this month", "my invoice shows the wrong amount", "please refund the payment",
                "the subscription fee went up", "my credit card was billed after I cancelled",
                "I need a receipt for the last charge", "why is there an extra charge on my bill"],
    "bug": ["the app crashes when I open settings", "I get an error 500 on the dashboard",
            "the export button does nothing", "the page freezes after login", "sync is broken since the update",
            "images fail to load and show an error", "it keeps crashing on my phone"],
    "account": ["I cannot log in to my account", "please reset my password", "how do I change my email address",
                "my account was locked", "I want to delete my account", "two-factor code never arrives",
                "I forgot my username"],
    "shipping": ["my order has not arrived yet", "the package was delivered to the wrong address",
                 "tracking number shows no updates", "the parcel arrived damaged", "when will my order ship",
                 "delivery is two weeks late", "the courier lost my package"],
    "feature_request": ["it would be great to have a dark mode", "please add an export to excel",
                        "could you support multiple languages", "I would love a calendar integration",
                        "can you add keyboard shortcuts", "a bulk edit option would help", "please add an api"],
    "praise": ["thanks, the support team was amazing", "love the new design", "great product, keep it up",
               "you solved my problem in minutes, thank you", "best app I have used this year",
               "really happy with the service", "awesome update, works perfectly"],
}
OPENERS = ["Hi,", "Hello team,", "Hey,", "Good morning,", "", "", "Dear support,"]
FILLERS = ["", "", "I have been a customer for years.", "This is urgent.", "Order 48213.", "Sent from my phone.",
           "Please get back to me soon.", "I tried again today.", "My colleague has the same question."]
CLOSERS = ["Thanks", "Regards", "", "", "Cheers", "Best"]
# A few words of another class slip into some tickets, so LFs conflict and the label model has work to do.
NOISE = ["the app", "my account", "the order", "thanks", "the charge", "a new feature"]
SHARES = (0.24, 0.22, 0.18, 0.16, 0.12, 0.08)
# Vague tickets: one weak hint of the class and nothing else, which no keyword list fully covers.
VAGUE = {"billing": ["question about my plan cost", "the amount looks odd"],
         "bug": ["something is off in the app", "it behaves strangely since yesterday"],
         "account": ["I cannot get in anymore", "my profile settings are wrong"],
         "shipping": ["where is my stuff", "still waiting for my box"],
         "feature_request": ["an idea for the product", "it would be nice if it could do more"],
         "praise": ["just wanted to say hi, all good", "nice work everyone"]}


def ticket(rng: random.Random, label: str) -> str:
    if rng.random() < 0.08:
        return " ".join(p for p in (rng.choice(OPENERS), rng.choice(VAGUE[label]), rng.choice(CLOSERS)) if p)
    parts = [rng.choice(OPENERS), rng.choice(PHRASES[label])]
    if rng.random() < 0.1:  # mentions another class's issue first
        parts.insert(1, "Last time " + rng.choice(PHRASES[rng.choice([c for c in CLASSES if c != label])]) + ", but now")
    if rng.random() < 0.4:
        parts.append(rng.choice(PHRASES[label]))
    if rng.random() < 0.25:
        parts.append(f"Also about {rng.choice(NOISE)}.")
    parts += [rng.choice(FILLERS), rng.choice(CLOSERS)]
    text = " ".join(p for p in parts if p)
    if rng.random() < 0.1:  # a typo
        i = rng.randrange(len(text) - 1)
        text = text[:i] + text[i + 1] + text[i] + text[i + 2:]
    return text


def rows(rng: random.Random, n: int, start: int) -> list[tuple[str, str, str, str]]:
    out = []
    for i in range(n):
        label = rng.choices(CLASSES, weights=SHARES)[0]
        out.append((f"T{start + i:06d}", ticket(rng, label), rng.choice(["email", "chat", "web"]), label))
    return out


def write(dest: str | Path, *, seed: int = 7, train: int = 1500, dev: int = 200, valid: int = 200,
          test: int = 300) -> Path:
    """Write the four files under ``dest``; the same seed writes the same bytes."""
    rng = random.Random(seed)
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    start = 0
    for name, n, labeled in (("train", train, False), ("dev", dev, True), ("valid", valid, True), ("test", test, True)):
        with open(dest / f"{name}.csv", "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["ticket_id", "body", "channel", *(["category"] if labeled else [])])
            for ident, body, channel, label in rows(rng, n, start):
                writer.writerow([ident, body, channel, *([label] if labeled else [])])
        start += n
    return dest


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dest")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--train", type=int, default=1500)
    args = parser.parse_args()
    print(f"wrote {write(args.dest, seed=args.seed, train=args.train)}")
