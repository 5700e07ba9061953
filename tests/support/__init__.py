"""What the test layers share: where the repository's files are, the sandbox helpers, the
OpenAPI checker, the fidelity outlines and the end-to-end world."""

from __future__ import annotations

from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
REPO = TESTS.parent
FIXTURES = TESTS / "fixtures"
