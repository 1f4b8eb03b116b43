"""What the prediction log costs a request: PredictionLog.offer (on the event loop) per request of 1 and 32
texts, against the anchor of the served predictor's predict_proba on the same texts, measured in this run.
Also the writer's throughput (rows/s written to Parquet, text and hash modes).

    python bench/prediction_log.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from conftest import TINY_TEXTS, train_tiny_model  # noqa: E402

from labelgate.serving.prediction_log import PredictionLog  # noqa: E402
from labelgate.training import load_predictor  # noqa: E402


def per_call(fn, repeat: int) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - start) / repeat


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        predictor = load_predictor(train_tiny_model(Path(tmp) / "model", seed=0, flip=False))
        for n in (1, 32):
            texts = [TINY_TEXTS[i % len(TINY_TEXTS)] + f" {i} and some more words" for i in range(n)]
            probs = predictor.predict_proba(texts)
            anchor = per_call(lambda texts=texts: predictor.predict_proba(texts), 300)
            log = PredictionLog(Path(tmp) / f"log{n}", queue_size=10**6, flush_rows=10**6, flush_seconds=3600,
                                start=False)  # the writer off: offer alone
            cost = per_call(lambda texts=texts, probs=probs, log=log: log.offer(
                model="m", version="1", texts=texts, probs=probs, classes=["ham", "spam"]), 3000)
            print(f"{n:2d} texts: offer {cost * 1e6:.1f} us vs predict_proba {anchor * 1e6:.1f} us "
                  f"(ratio {cost / anchor:.3f})")
        for privacy in ("text", "hash"):
            log = PredictionLog(Path(tmp) / f"w-{privacy}", privacy=privacy, queue_size=10**6, flush_rows=10_000,
                                start=False)  # type: ignore[arg-type]
            probs = np.tile([[0.3, 0.7]], (32, 1))
            for i in range(1000):
                log.offer(model="m", version="1", texts=[f"comment {i} {j} " + "x" * 80 for j in range(32)],
                          probs=probs, classes=["ham", "spam"])
            start = time.perf_counter()
            log.close()
            print(f"writer ({privacy}): {log.written / (time.perf_counter() - start):,.0f} rows/s "
                  f"({log.written} rows)")


if __name__ == "__main__":
    main()
