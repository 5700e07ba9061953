"""Markdown -> storage throughput against markdown-it-py's own Markdown -> HTML.

The corpus is real README-sized documents that are on every machine that runs this: the
Markdown long descriptions (READMEs) in the METADATA of the installed Python packages,
plus mdsync/sample_docs/. Both sides use the same parser configuration (mdsync's), so the ratio
shows what mdsync's storage writer adds on top of parsing.

    .venv/bin/python benchmarks/convert_throughput.py [--rounds 5]

Target (issue #3): mdsync's throughput at least 75% of markdown-it-py's HTML rendering.
"""

from __future__ import annotations

import argparse
import email.parser
import time
from importlib import metadata
from pathlib import Path

from mdsync import markdown_to_storage
from mdsync.convert.to_storage import make_parser

ROOT = Path(__file__).resolve().parents[1]


def corpus() -> list[str]:
    documents = []
    for distribution in metadata.distributions():
        text = distribution.read_text("METADATA")
        if not text:
            continue
        message = email.parser.Parser().parsestr(text)
        if "markdown" not in (message.get("Description-Content-Type") or "").lower():
            continue
        body = message.get_payload()
        if isinstance(body, str) and 2_000 <= len(body) <= 200_000:
            documents.append(body)
    documents += [path.read_text(encoding="utf-8") for path in sorted((ROOT / "mdsync" / "sample_docs").rglob("*.md"))]
    return documents


def best_times(functions: list, documents: list[str], rounds: int) -> list[float]:
    """Best wall time of each function over the corpus; rounds alternate to share the noise."""
    best = [float("inf")] * len(functions)
    for _ in range(rounds):
        for index, function in enumerate(functions):
            start = time.perf_counter()
            for document in documents:
                function(document)
            best[index] = min(best[index], time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    documents = corpus()
    megabytes = sum(len(document.encode("utf-8")) for document in documents) / 1e6
    markdown_it = make_parser()
    reference, ours = best_times([markdown_it.render, markdown_to_storage], documents, args.rounds)
    print(f"corpus: {len(documents)} documents, {megabytes:.2f} MB (installed packages' READMEs + sample_docs)")
    print(f"markdown-it-py Markdown -> HTML:    {megabytes / reference:6.2f} MB/s")
    print(f"mdsync Markdown -> storage:        {megabytes / ours:6.2f} MB/s")
    print(f"ratio (target >= 0.75):            {reference / ours:6.2f}")


if __name__ == "__main__":
    main()
