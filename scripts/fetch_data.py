#!/usr/bin/env python3
"""Download the YouTube Spam Collection (UCI dataset 380, CC BY 4.0) and verify its SHA-256 hashes.

Used by `make data` when ../shared/data/youtube-spam is not there. Standard library only, so it runs
before the virtualenv exists. Cite: Alberto, Lochter and Almeida, ICMLA 2015.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import sys
import urllib.request
import zipfile
from pathlib import Path

URLS = (
    "https://archive.ics.uci.edu/static/public/380/youtube+spam+collection.zip",
    "https://archive.ics.uci.edu/ml/machine-learning-databases/00380/YouTube-Spam-Collection-v1.zip",
)
SHA256 = {
    "Youtube01-Psy.csv": "19797e6c77690e3c8809cfd2853ae7341390636367ba66cf5d4f4083f0b88535",
    "Youtube02-KatyPerry.csv": "902c614f8ef24f987d6f614d7e6111aa5160b89a0646b68e007bd6044a3d123b",
    "Youtube03-LMFAO.csv": "702ef589860a1831956f527760a3d9737ef8a07ab36c7de35b92b8898b8c3928",
    "Youtube04-Eminem.csv": "92f54eb6b22fdf3b7ae85e1f500e5aa7442edd025e504b988a97078756187e76",
    "Youtube05-Shakira.csv": "1d8ab47b71e8037c51183b2fc62f0591a48a4b54f3a4f5d9d3043113b274e98e",
}


def extract_verified(archive: bytes, dest: Path) -> list[Path]:
    """Write the five CSVs from ``archive`` (possibly a zip inside a zip) to ``dest``, checking each hash."""
    found: dict[str, bytes] = {}
    with zipfile.ZipFile(io.BytesIO(archive)) as outer:
        for name in outer.namelist():
            base = name.rsplit("/", 1)[-1]
            if base in SHA256:
                found[base] = outer.read(name)
            elif base.lower().endswith(".zip"):
                with zipfile.ZipFile(io.BytesIO(outer.read(name))) as inner:
                    for inner_name in inner.namelist():
                        inner_base = inner_name.rsplit("/", 1)[-1]
                        if inner_base in SHA256:
                            found[inner_base] = inner.read(inner_name)
    missing = sorted(set(SHA256) - set(found))
    if missing:
        raise ValueError(f"the archive lacks {missing}")
    for name, payload in found.items():
        digest = hashlib.sha256(payload).hexdigest()
        if digest != SHA256[name]:
            raise ValueError(f"{name}: sha256 {digest} does not match the published {SHA256[name]}")
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    for name, payload in sorted(found.items()):
        (dest / name).write_bytes(payload)
        written.append(dest / name)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dest", type=Path, default=Path("data/youtube-spam"), help="folder for the CSVs")
    args = parser.parse_args(argv)
    if all((args.dest / name).exists() for name in SHA256):
        print(f"{args.dest}: already there")
        return 0
    errors = []
    for url in URLS:
        try:
            print(f"downloading {url}")
            with urllib.request.urlopen(url, timeout=60) as response:
                written = extract_verified(response.read(), args.dest)
            print(f"wrote {len(written)} verified files to {args.dest}")
            return 0
        except (OSError, ValueError, zipfile.BadZipFile) as exc:
            errors.append(f"{url}: {exc}")
    print("could not fetch the YouTube Spam Collection:\n  " + "\n  ".join(errors), file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
