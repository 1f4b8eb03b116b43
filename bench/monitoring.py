"""How many served rows a monitoring verdict needs: the text-length Jensen-Shannon distance between
undrifted samples of the example (one random half) and the profile of the other half, by sample size.
The anchor is the same comparison on the whole half (no sampling noise), measured in the same run.

    python bench/monitoring.py [DATA_DIR]
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from labelgate.validation.drift import build_profile, compare_profiles
from labelgate.validation.settings import ValidationSettings


def js(reference: dict, frame: pd.DataFrame, settings: ValidationSettings) -> float:
    current = build_profile(frame=frame, label_matrix=None, lf_names=None, probs=None, settings=settings,
                            reference=reference)
    return float(compare_profiles(reference, current, settings)[0].detail.split()[2])


def main() -> None:
    places = [Path(sys.argv[1])] if len(sys.argv) > 1 else [Path("../shared/data/youtube-spam"), Path("data/youtube-spam")]
    data = next((p for p in places if any(p.glob("*.csv"))), None)
    if data is None:
        sys.exit(f"no example data at {' or '.join(map(str, places))}; run `make data`")
    frame = pd.concat([pd.read_csv(p) for p in sorted(data.glob("*.csv"))], ignore_index=True)
    traffic = frame.sample(frac=0.5, random_state=0)
    settings = ValidationSettings(categorical_columns=())
    reference = build_profile(frame=frame.drop(traffic.index), label_matrix=None, lf_names=None, probs=None,
                              settings=settings)
    anchor = js(reference, traffic, settings)
    print(f"anchor (whole half, {len(traffic)} rows): JS {anchor:.3f}; threshold {settings.max_js_distance}")
    for n in (50, 100, 200, 300, 500):
        values = [js(reference, traffic.sample(n, random_state=seed), settings) for seed in range(20)]
        print(f"{n:4d} rows: JS max {max(values):.3f} median {np.median(values):.3f} "
              f"(max / anchor {max(values) / max(anchor, 1e-9):.1f}x)")


if __name__ == "__main__":
    main()
