"""The storage-format floor: what every reader and writer of Confluence storage stands on.

Safe parsing, serialising and building (``xhtml``), the canonical form that answers "is
this the same page?" (``canonical``), a light node view of a parsed tree (``nodes``),
heading anchors (``anchors``) and emoticons (``emoticons``). The converters, the client,
the preview and the sandbox import from here; nothing here imports them.
"""
