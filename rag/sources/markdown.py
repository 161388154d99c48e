"""Markdown: YAML front matter (title, date, author, url, source) as metadata, never as text.

The article text stays the whole decoded file so offsets match what a user opens; the front
matter is simply outside every content block (`body_start` says where the body begins).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(?:.*?\r?\n)?---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(?P<text>.*?)[ \t#]*$")


@dataclass(frozen=True)
class FrontMatter:
    body_start: int  # offset of the first character after the front matter (0 if none)
    metadata: dict[str, Any] = field(default_factory=dict)

    def text(self, key: str) -> str | None:
        value = self.metadata.get(key)
        if isinstance(value, (list, tuple)):  # `author: [A, B]`
            value = ", ".join(str(v) for v in value)
        value = " ".join(str(value).split()) if value is not None else ""
        return value or None


def front_matter(text: str) -> FrontMatter:
    """The YAML front matter at the very top of `text`, parsed by python-frontmatter.

    Malformed YAML is not fatal: the block is still kept out of the body, with no metadata.
    """
    match = _FRONT_MATTER.match(text)
    if not match:
        return FrontMatter(0)
    import frontmatter

    try:
        metadata = dict(frontmatter.loads(match.group(0) + "\n").metadata)
    except Exception:  # noqa: BLE001 - yaml raises several error types; the text still reads
        metadata = {}
    return FrontMatter(match.end(), metadata)


def heading_text(line: str) -> str | None:
    """The text of an ATX heading line ('## Title' -> 'Title'), else None."""
    match = HEADING.match(line)
    return match.group("text").strip() if match else None
