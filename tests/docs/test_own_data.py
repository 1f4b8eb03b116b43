"""docs/own-data.md, followed to the letter: every `sh` block runs in order (the `python` block becomes
my-project/lfs.py) on a binary data set generated here (13% spam, an unlabeled train file, labeled dev,
valid and test files with string labels), so the page cannot drift from the code."""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "own-data.md"
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```", re.M | re.S)

HAM = ["love this song", "her voice is amazing", "the beat at 2:10 gives me chills", "best chorus of the decade",
       "who is still listening in 2024", "these lyrics hit different", "my favourite song ever",
       "this brings back memories", "the video is so well made", "I come back to this every week"]
SPAM = ["check out my channel", "subscribe to me for free gift cards", "win cash now at www.prizes.com",
        "please subscribe, sub4sub", "visit http://cheap-followers.net", "check my new video",
        "free followers at www.getfans.com", "I make cash from home, check out my page"]


def _text(rng: random.Random, label: str) -> str:
    own, other = (HAM, SPAM) if label == "ham" else (SPAM, HAM)
    words = rng.choice(own)
    if rng.random() < 0.35:  # a second phrase, rarely one that belongs to the other class
        words += " " + rng.choice(own if rng.random() > 0.05 else other).split(" ", 1)[-1]
    return words + rng.choice(["", "!", " :)", " ...", "!!"])


def write_data(folder: Path, seed: int = 3) -> dict[str, int]:
    rng = random.Random(seed)
    folder.mkdir(parents=True)
    sizes = {"train": 1200, "dev": 200, "valid": 200, "test": 300}
    start = 0
    for role, n in sizes.items():
        labels = ["spam" if rng.random() < 0.13 else "ham" for _ in range(n)]
        frame = pd.DataFrame({"id": [f"c{start + i}" for i in range(n)], "text": [_text(rng, y) for y in labels]})
        if role != "train":
            frame["label"] = labels
        frame.to_csv(folder / f"{role}.csv", index=False)
        start += n
    return sizes


def blocks() -> list[tuple[str, str]]:
    return [(kind, body) for kind, body in BLOCK.findall(PAGE.read_text()) if kind in ("sh", "python")]


def test_the_readme_links_the_page():
    assert "docs/own-data.md" in (ROOT / "README.md").read_text()


@pytest.mark.e2e
@pytest.mark.slow
def test_the_page_s_commands_take_a_person_s_files_to_a_pushed_model(tmp_path):
    sizes = write_data(tmp_path / "my-data")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "PYTHONUNBUFFERED": "1"}
    outputs = []
    assert [kind for kind, _ in blocks()].count("sh") >= 4
    for kind, body in blocks():
        if kind == "python":
            (tmp_path / "my-project" / "lfs.py").write_text(body)
            continue
        for command in (line for line in body.splitlines() if line.strip() and not line.startswith("#")):
            done = subprocess.run(command, shell=True, cwd=tmp_path, env=env, capture_output=True, text=True,
                                  timeout=1200)
            outputs.append(done.stdout + done.stderr)
            assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
    init, lfs, run, models = outputs[:4]
    assert "test.csv" in init and "0=ham" in init and "1=spam" in init
    assert "| subscribe |" in lfs
    summary = json.loads(next((tmp_path / "runs").glob("*/summary.json")).read_text())
    assert summary["exit_code"] == 0 and summary["pushed"]["model_name"] == "my-spam"
    # the reported test rows are exactly the rows of test.csv; each role's origin is shown
    assert summary["metrics"]["test_rows"] == sizes["test"]
    assert summary["data"]["roles"]["test"] == {"rows": sizes["test"], "origin": "file test.csv"}
    assert summary["data"]["roles"]["dev"] == {"rows": sizes["dev"], "origin": "file dev.csv"}
    assert "make serve MODEL_NAME=my-spam" in run
    assert re.search(r"my-spam\s+1\s+1", models)
