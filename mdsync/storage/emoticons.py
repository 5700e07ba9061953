"""What an emoticon shows: Confluence's emoticon names and Cloud's emoji, as characters.

The converter writes them as text in the Markdown and the preview shows them; both read
this one table.
"""

from __future__ import annotations

import re

EMOTICONS = {
    "smile": "🙂",
    "sad": "🙁",
    "cheeky": "😛",
    "laugh": "😃",
    "wink": "😉",
    "thumbs-up": "👍",
    "thumbs-down": "👎",
    "information": "ℹ️",
    "tick": "✅",
    "cross": "❌",
    "warning": "⚠️",
    "plus": "➕",
    "minus": "➖",
    "question": "❓",
    "light-on": "💡",
    "light-off": "💡",  # greyed out by the emoticon-light-off class
    "yellow-star": "⭐",
    "red-star": "★",  # a text star takes the colour the CSS gives it
    "green-star": "★",
    "blue-star": "★",
    "heart": "❤️",
    "broken-heart": "💔",
}


def _emoji_from_id(emoji_id: str) -> str | None:
    parts = emoji_id.strip().lower().split("-")
    if not all(re.fullmatch(r"[0-9a-f]{2,6}", part) for part in parts):
        return None
    points = [int(part, 16) for part in parts]
    if any(p < 0x20 or 0xD800 <= p <= 0xDFFF or p > 0x10FFFF or p in (0xFFFE, 0xFFFF) for p in points):
        return None
    return "".join(map(chr, points))


def emoticon_text(name: str, fallback: str, shortname: str, emoji_id: str) -> str:
    """What an emoticon shows: its emoji character, or the best readable stand-in."""
    name, fallback, shortname = name.strip(), fallback.strip(), shortname.strip()
    if fallback and not (fallback.startswith(":") and fallback.endswith(":")):
        return fallback
    return (
        _emoji_from_id(emoji_id)
        # Cloud writes a legacy ac:name even for other emoji, so the shortname is truer.
        or shortname
        or EMOTICONS.get(name.lower())
        or fallback
        or (f"({name})" if name else "")
    )
