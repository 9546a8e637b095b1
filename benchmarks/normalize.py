#!/usr/bin/env python
"""Normalisation time grows linearly with the length of the input.

For each kind of text (plain ASCII, ordinary Japanese, half-width kana with voiced marks,
protected ideographs between kana, crafted runs of combining marks) `normalize_text` and
`to_katakana` run on inputs of 1,000 to 1,000,000 characters. The baseline is the time per
character on the shortest input, measured in the same run; each longer input is reported
as the ratio of its time per character to that baseline. Linear work keeps the ratio near
1 (caches and allocation move it a little); quadratic work would multiply it by ten at
each step. Target: every ratio <= 3.

    .venv/bin/python benchmarks/normalize.py [--quick]

Prints a table and one JSON line per kind (the largest input):

    {"bench": "normalize_linear:KIND", "value": µs per char, "unit": "us/char",
     "baseline": µs per char at the shortest, "ratio": R, "target": 3, "ok": R <= 3}

Exit status 3 when a ratio is over its target. No Django settings are needed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from forms_engine import normalize  # noqa: E402

TARGET = 3.0

KINDS = {
    "ascii": "Taro Yamada, 1-2-3 Otemae, Chuo-ku\t",
    "japanese": "山田太郎　大阪市中央区大手前２丁目１ー２２　ＡＢＣ１２３～やまだ",
    "halfwidth_kana": "ﾔﾏﾀﾞ ﾀﾛｳ ｶﾞｯｺｳ ﾊﾟﾝ ｱﾞ",
    "protected": "\ufa19あ\U00020bb7か\uf91d",
    "combining_marks": "a" + "\u0301\u0316" * 50,
}


def per_char(text: str, repeats: int) -> float:
    """Best of `repeats` runs, in microseconds per character."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        normalize.normalize_text(text, multiline=True)
        normalize.to_katakana(text)
        best = min(best, time.perf_counter() - start)
    return best / len(text) * 1e6


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="up to 100,000 characters only")
    args = p.parse_args(argv)
    sizes = [1_000, 10_000, 100_000] + ([] if args.quick else [1_000_000])
    normalize.normalize_text("warm-up: é")  # builds the tables once, outside the timing

    header = f"{'kind':<16}" + "".join(f"{n:>12,}" for n in sizes)
    print(f"normalize: µs per character, then the ratio to {sizes[0]:,} characters")
    print(header)
    lines = []
    failed = False
    for kind, unit in KINDS.items():
        figures = []
        for n in sizes:
            text = (unit * (n // len(unit) + 1))[:n]
            figures.append(per_char(text, repeats=5 if n <= 100_000 else 2))
        baseline = figures[0]
        ratios = [f / baseline for f in figures]
        print(f"{kind:<16}" + "".join(f"{f:>12.3f}" for f in figures))
        print(f"{'':<16}" + "".join(f"{r:>11.2f}x" for r in ratios))
        ok = max(ratios) <= TARGET
        failed |= not ok
        lines.append(
            {
                "bench": f"normalize_linear:{kind}",
                "value": round(figures[-1], 4),
                "unit": "us/char",
                "baseline": round(baseline, 4),
                "ratio": round(ratios[-1], 2),
                "target": TARGET,
                "ok": ok,
            }
        )
    for line in lines:
        print(json.dumps(line))
    return 3 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
