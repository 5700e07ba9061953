"""How faithfully pages others wrote come through a pull and the next push (figures for the README).

Over tests/fixtures/storage (pages saved by the Cloud editor, the legacy editor, other
publishing tools, pages edited by hand), as they are and as the Cloud editor re-saves them,
and over storage mdsync wrote (CommonMark spec examples, GFM fixtures, README-style
documents, sample_docs):

- round trip: the push of a pulled page equals the page canonically, with the state the
  pull leaves (what the sync does) and without it (a file converted on its own);
- stable: a second pull of what the push wrote gives the same Markdown;
- lost: constructs of the page missing from what the push writes;
- payload: the share of a pulled file's characters that are compressed copies, and the
  share inside kept regions (markers and their readable text; a wrap's content is ordinary
  Markdown, so only its markers count);
- editor re-save: storage mdsync wrote, re-saved by the editor, pulls as the same Markdown.

    .venv/bin/python benchmarks/pull_fidelity.py
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from markdown_it.utils import read_fixture_file  # noqa: E402

from mdsync.convert import convert_storage  # noqa: E402
from mdsync.convert.reapply import reapply  # noqa: E402
from mdsync.convert.to_storage import markdown_to_storage  # noqa: E402
from mdsync.sandbox.editor import editor_resave  # noqa: E402
from mdsync.storage.canonical import canonical_storage  # noqa: E402
from mdsync.storage.xhtml import local_name, parse_storage  # noqa: E402

CORPUS = sorted((ROOT / "tests" / "fixtures" / "storage").glob("*.xml"))
MARKDOWN = ROOT / "tests" / "fixtures" / "markdown"
MARKER = re.compile(r"<!-- /?mdsync:(?:keep|wrap|next)[^>]*-->|<mdsync-keep [^>]*>|</mdsync-keep>")
DATA = re.compile(r"(?<=· [0-9a-f]{12} )[A-Za-z0-9_\-]+=*(?= -->)|(?<=data=\")[A-Za-z0-9_\-]+=*")
# Kept regions (a wrap's content is ordinary Markdown, so only its markers count).
REGION = re.compile(r"<!-- mdsync:keep .*?<!-- /mdsync:keep -->|<mdsync-keep .*?</mdsync-keep>|<!-- /?mdsync:(?:wrap|next)"
                    r"[^>]*-->", re.DOTALL)


def constructs(storage: str) -> Counter[str]:
    found: Counter[str] = Counter()
    for node in parse_storage(canonical_storage(storage)).iter():
        if isinstance(node.tag, str):
            name = local_name(node)
            found[name + (":" + node.get("{http://atlassian.com/content}name", "") if name.endswith("macro") else "")] += 1
    return found


def measure(pages: list[str]) -> dict[str, float]:
    same = same_alone = stable = lost = 0
    characters = payload = carried = 0
    for page in pages:
        pulled = convert_storage(page, keep_payloads=True)
        pushed = reapply(markdown_to_storage(pulled.markdown, pulled.payloads), page)
        canonical = canonical_storage(page)
        same += canonical_storage(pushed) == canonical
        alone = convert_storage(page)
        same_alone += canonical_storage(markdown_to_storage(alone.markdown)) == canonical
        stable += convert_storage(pushed, keep_payloads=True).markdown == pulled.markdown
        lost += sum((constructs(page) - constructs(pushed)).values())
        characters += len(pulled.markdown)
        payload += sum(len(found) for found in DATA.findall(pulled.markdown))
        carried += sum(len(found) for found in REGION.findall(pulled.markdown))
    count = len(pages)
    return {"pages": count, "round trip": same / count, "round trip without the state": same_alone / count,
            "stable": stable / count, "constructs lost": lost, "payload share": payload / characters,
            "share in kept regions": carried / characters}


def written_by_mdsync() -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {"spec": [], "gfm": [], "readme": []}
    for example in json.loads((MARKDOWN / "commonmark.json").read_text(encoding="utf-8")):
        groups["spec"].append(example["markdown"])
    for name in ("tables", "tasklists", "strikethrough", "strikethrough_single_tilde", "alerts"):
        groups["gfm"] += [markdown for _, _, markdown, _ in read_fixture_file(MARKDOWN / f"{name}.md")]
    groups["readme"] += [path.read_text(encoding="utf-8") for path in sorted((MARKDOWN / "readmes").glob("*.md"))
                         if path.name != "SOURCE.md"]
    sample_docs = ROOT / "mdsync" / "sample_docs"
    groups["readme"] += [path.read_text(encoding="utf-8") for path in sorted(sample_docs.rglob("*.md"))]
    return groups


def main() -> None:
    foreign = [path.read_text(encoding="utf-8") for path in CORPUS]
    for name, pages in (("foreign pages", foreign),
                        ("the same, re-saved by the Cloud editor", [editor_resave(page, space_key="ENG")
                                                                    for page in foreign])):
        figures = measure(pages)
        print(f"{name} ({figures.pop('pages')}):")
        for key, value in figures.items():
            print(f"  {key:28} {value:.1%}" if isinstance(value, float) else f"  {key:28} {value}")
    print("storage mdsync wrote (fixed point, with the state / re-saved by the editor pulls the same):")
    for group, documents in written_by_mdsync().items():
        fixed = resaved = 0
        for markdown in documents:
            page = markdown_to_storage(markdown)
            pulled = convert_storage(page, keep_payloads=True)
            pushed = reapply(markdown_to_storage(pulled.markdown, pulled.payloads), page)
            fixed += canonical_storage(pushed) == canonical_storage(page)
            resaved += convert_storage(editor_resave(page, space_key="DOCS"), keep_payloads=True).markdown == \
                pulled.markdown
        print(f"  {group:8} {len(documents):4} documents: {fixed / len(documents):.1%} / {resaved / len(documents):.1%}")


if __name__ == "__main__":
    main()
