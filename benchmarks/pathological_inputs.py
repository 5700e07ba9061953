"""Conversion time on pathological inputs, at three sizes, to show any super-linear growth.

Each input is a construct repeated to the size (``[`` x N, ``<!--`` x N, a table with N
columns...). The figures are CPU seconds of this process (``time.process_time``), so other
work on the machine moves them less than wall time would; growth is the time at ten times
the size over the time at the size: about 10 is linear, about 100 quadratic.

Markdown -> storage is ``mdsync.markdown_to_storage``; "scan" is what mdsync does with a file
before converting it (its title and heading anchors: ``docs.title_of`` and
``docs.heading_anchors``); front matter is ``split_front_matter``; storage -> Markdown is
``mdsync.storage_to_markdown``; the storage digest is ``storage.canonical.storage_digest``,
which the sync compares page bodies by.

    .venv/bin/python benchmarks/pathological_inputs.py [--all] [--sizes 10000 100000 1000000] [--only TEXT]

Under two minutes on a 2-core VM; --all (under four) adds the other inputs that were
super-linear once, the scan and the storage digest.

Target (issue #14, item 10): every growth about 10, none near 100.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

from mdsync import markdown_to_storage, storage_to_markdown
from mdsync.convert.frontmatter import split_front_matter
from mdsync.docs import LocalDoc, heading_anchors, title_of
from mdsync.errors import MdsyncError
from mdsync.storage.canonical import storage_digest


def repeat(unit: str) -> Callable[[int], str]:
    return lambda size: unit * max(1, size // len(unit))


def nested_list(size: int) -> str:
    # Deeper than markdown-it's nesting limit the document is shown as text; repeat 80-deep lists.
    one = "\n".join("  " * depth + "- item" for depth in range(80)) + "\n\n"
    return one * max(1, size // len(one))


def deep_quotes(size: int) -> str:
    one = "".join("> " * depth + "quote\n" for depth in range(1, 80)) + "\n"
    return one * max(1, size // len(one))


def nested_html(size: int) -> str:
    return "<div>\n" + "<div><span>" * (size // 24) + "x" + "</span></div>" * (size // 24) + "\n</div>\n"


def wide_table(size: int) -> str:
    columns = max(1, size // 4)
    return "|" + " a |" * columns + "\n|" + "---|" * columns + "\n"


def footnotes(size: int) -> str:
    return "[^note]: A note.\n\n" + "[^" * (size // 2)


def front_matter(size: int) -> str:
    return "---\n" + "".join(f"key{index}: value\n" for index in range(size // 16)) + "---\n# Title\n"


def wide_storage_table(size: int) -> str:
    return "<table><tbody><tr>" + "<td><p>a</p></td>" * (size // 17) + "</tr></tbody></table>"


# The inputs of the issue, one or more for each way a converter can go quadratic.
MARKDOWN: dict[str, Callable[[int], str]] = {
    "`[` x N": repeat("["),
    "`![` x N": repeat("!["),
    "`[a](` x N": repeat("[a]("),
    "`^[` x N (inline footnotes)": repeat("^["),
    "`*` x N": repeat("*"),
    "`_` x N": repeat("_"),
    "`*a **b` x N": repeat("*a **b "),
    "`a*b*` x N (one line)": repeat("a*b*"),
    "`` `a `` x N (backticks)": repeat("`a"),
    "`<` x N": repeat("<"),
    "`<!--` x N": repeat("<!--"),
    "nested HTML tags": nested_html,
    "`&` x N": repeat("&"),
    "`\\` x N": repeat("\\"),
    "`{` x N": repeat("{"),
    "`:` x N": repeat(":"),
    "`>` x N (one deep quote)": repeat(">"),
    "quotes 80 deep, repeated": deep_quotes,
    "lists 80 deep, repeated": nested_list,
    "table with N columns": wide_table,
    "empty lines": repeat("\n"),
    "one line of words": repeat("word "),
}

# With --all: the other inputs that were super-linear before issue 14, item 10, and more.
MARKDOWN_MORE: dict[str, Callable[[int], str]] = {
    "`[` x N, then `]`": lambda size: "[" * (size - 1) + "]",
    "`[^` x N with a footnote defined": footnotes,
    "`*a ` x N, then `a* ` x N (nested)": lambda size: "*a " * (size // 6) + "a* " * (size // 6),
    "`~~a` x N": repeat("~~a"),
    "`<div <a` (unclosed tags)": lambda size: "<div " + "<a " * (size // 3),
    "`` `a`{ `` x N (attributes)": repeat("`a`{"),
    "`http:` x N": repeat("http:"),
    "`http://a` then `)` x N": lambda size: "http://a" + ")" * size,
    "`a@` x N": repeat("a@"),
    "`a` lines (one paragraph)": repeat("a\n"),
    "`[x]: ` x N": repeat("[x]: "),
}

SCAN: dict[str, Callable[[int], str]] = {
    "`[` x N": repeat("["),
    "`<!--` x N": repeat("<!--"),
    "`# [` headings": repeat("# [a\n"),
}

STORAGE: dict[str, Callable[[int], str]] = {
    "table with N columns": wide_storage_table,
    "N marks in a paragraph": lambda size: "<p>" + "<strong>a</strong> " * (size // 19) + "</p>",
    "entities in a long text": lambda size: "<p>" + "a&amp;&lt;&#160;" * (size // 16) + "</p>",
}

STORAGE_MORE: dict[str, Callable[[int], str]] = {
    "table with N rows": lambda size: "<table><tbody>" + "<tr><td>a</td><td>b</td></tr>" * (size // 30)
    + "</tbody></table>",
    "marks 60 deep, repeated": lambda size: "<p>" + ("<em><strong>" * 30 + "a" + "</strong></em>" * 30)
    * (size // 630) + "</p>",
    "N line breaks": lambda size: "<p>" + "a<br/>" * (size // 6) + "</p>",
    "Markdown characters": lambda size: "<p>" + "*_[]`&lt;&gt;#|\\" * (size // 17) + "</p>",
    "N unknown macros": lambda size: '<ac:structured-macro ac:name="zz"><ac:parameter ac:name="p">v'
    "</ac:parameter></ac:structured-macro>" * (size // 95),
}


# The canonical form the sync compares page bodies by (storage_digest): with --all.
DIGEST: dict[str, Callable[[int], str]] = {
    "N marks in a paragraph": STORAGE["N marks in a paragraph"],
    "N bare spans in a paragraph": lambda size: "<p>" + "<span>a</span>" * (size // 14) + "</p>",
}


def scan(text: str) -> None:
    title_of(text, LocalDoc("page.md", None, None))
    heading_anchors(text)


def front(text: str) -> None:
    try:
        split_front_matter(text)
    except MdsyncError:
        pass  # a refusal is an answer too; what is measured is how long it takes


def suites(everything: bool) -> list[tuple[str, dict[str, Callable[[int], str]], Callable[[str], object]]]:
    chosen = [
        ("Markdown -> storage", MARKDOWN | (MARKDOWN_MORE if everything else {}), markdown_to_storage),
        ("front matter", {"front matter with N keys": front_matter}, front),
        ("storage -> Markdown", STORAGE | (STORAGE_MORE if everything else {}), storage_to_markdown),
    ]
    return chosen + ([("scan (title, anchors)", SCAN, scan), ("storage digest", DIGEST, storage_digest)]
                     if everything else [])


def cpu_seconds(function: Callable[[str], object], text: str) -> float:
    """Best of a few runs for small inputs, one run for large ones."""
    best = float("inf")
    for _ in range(3 if len(text) < 200_000 else 1):
        start = time.process_time()
        function(text)
        best = min(best, time.process_time() - start)
    return best


def growth(smaller: float, larger: float) -> str:
    return f"{larger / smaller:.0f}" if smaller >= 0.002 else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--only", default="", help="only the inputs whose name holds this text")
    parser.add_argument("--all", action="store_true", help="more inputs (about two minutes more)")
    args = parser.parse_args()
    sizes = args.sizes
    heads = [f"{size // 1000} KB" if size < 1_000_000 else f"{size / 1e6:g} MB" for size in sizes]
    print("| input | " + " | ".join(heads) + " | " + " | ".join(
        f"growth {a}→{b}" for a, b in zip(heads, heads[1:], strict=False)) + " |")
    print("|---" * (1 + 2 * len(sizes) - 1) + "|")
    started = time.perf_counter()
    for suite, cases, function in suites(args.all):
        for name, make in cases.items():
            if args.only not in name:
                continue
            times = [cpu_seconds(function, make(size)) for size in sizes]
            print(f"| {suite}: {name} | " + " | ".join(f"{seconds:.3f} s" for seconds in times) + " | "
                  + " | ".join(growth(a, b) for a, b in zip(times, times[1:], strict=False)) + " |", flush=True)
    print(f"\n{Path(__file__).name}: {time.perf_counter() - started:.0f} s in all")


if __name__ == "__main__":
    main()
