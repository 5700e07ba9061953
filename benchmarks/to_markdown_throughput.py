"""Storage -> Markdown throughput, with markdownify's own on comparable HTML.

The corpus is tests/fixtures/storage (80 pages as others write them: Cloud editor saves, the
legacy editor, other publishing tools, hand-edited pages). Two figures for mdsync: a file
converted on its own (markers hold their payload) and a pull (markers hold refs, the
payloads are returned for the state). The comparison feeds markdownify (plain,
html.parser) the same pages rendered to HTML by mdsync's view renderer, which is the HTML
a page's storage stands for.

    .venv/bin/python benchmarks/to_markdown_throughput.py [--rounds 5] [--repeat 4]

Target (issue #4): at least 1.5 MB/s of storage.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from markdownify import markdownify

from mdsync import storage_to_markdown
from mdsync.convert import convert_storage
from mdsync.preview.view import render_storage

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "storage"


def best(function, documents: list[str], rounds: int) -> float:
    fastest = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for document in documents:
            function(document)
        fastest = min(fastest, time.perf_counter() - start)
    return fastest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=4, help="copies of the corpus per round")
    args = parser.parse_args()
    pages = [path.read_text(encoding="utf-8") for path in sorted(CORPUS.glob("*.xml"))] * args.repeat
    html = [render_storage(page) for page in pages]
    storage_mb = sum(len(page.encode()) for page in pages) / 1e6
    html_mb = sum(len(page.encode()) for page in html) / 1e6
    ours = best(storage_to_markdown, pages, args.rounds)
    pulled = best(lambda page: convert_storage(page, keep_payloads=True), pages, args.rounds)
    theirs = best(markdownify, html, args.rounds)
    print(f"corpus: {len(pages)} pages, {storage_mb:.2f} MB of storage ({html_mb:.2f} MB as HTML)")
    print(f"mdsync storage -> Markdown:   {storage_mb / ours:6.2f} MB/s of storage (target >= 1.5)")
    print(f"  as a pull (refs, payloads): {storage_mb / pulled:6.2f} MB/s of storage")
    print(f"markdownify HTML -> Markdown: {html_mb / theirs:6.2f} MB/s of HTML")


if __name__ == "__main__":
    main()
