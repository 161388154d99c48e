"""Finding article files: every supported file under the named paths, and a reason for every other.

`root` of a found file is the folder the user named (resolved), or the file's own folder when a
file was named directly; `relative` is its posix path under that root. Nothing is skipped silently:
each `Skipped.path` names the file as found (like `Found.relative`: relative to the folder the user
named), or the path as given when it does not exist.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from rag.types import Skipped

KINDS = {".txt": "txt", ".md": "md", ".markdown": "md", ".html": "html", ".htm": "html", ".pdf": "pdf"}
SUPPORTED_SUFFIXES = frozenset(KINDS)


@dataclass(frozen=True)
class Found:
    path: Path
    root: Path
    relative: str


def unsupported_reason(suffix: str) -> str:
    return f"unsupported file type '{suffix or '(none)'}' (supported: {', '.join(KINDS)})"


def relative_name(path: Path, root: Path) -> str:
    """`path` relative to `root`, '/'-separated; the path itself when it is not under root."""
    absolute = Path(path).absolute()
    try:
        return absolute.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def _consider(path: Path, root: Path, found: list[Found], skipped: list[Skipped]) -> None:
    where = relative_name(path, root)
    if path.is_symlink():
        try:
            target = path.resolve()
        except (RuntimeError, OSError):  # Python 3.11 raises RuntimeError for a loop, not OSError
            skipped.append(Skipped(where, "symlink loop; not followed"))
            return
        if not target.exists():
            skipped.append(Skipped(where, "broken symlink"))
            return
        if not target.is_relative_to(root):
            skipped.append(Skipped(where, "symlink points outside the folder; not followed"))
            return
        if target.is_dir():  # its files are found under their real place; never walked twice
            skipped.append(Skipped(where, "symlink to a folder inside the corpus; its files are read from there"))
            return
    if not path.is_file():
        skipped.append(Skipped(where, "not a regular file"))
        return
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        skipped.append(Skipped(where, unsupported_reason(path.suffix)))
        return
    found.append(Found(path, root, relative_name(path, root)))


def _walk(folder: Path, root: Path, found: list[Found], skipped: list[Skipped]) -> None:
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as exc:
        skipped.append(Skipped(relative_name(folder, root) or ".", f"folder could not be read: {exc.strerror or exc}"))
        return
    for entry in entries:
        path = Path(entry.path)
        if entry.name.startswith("."):
            is_folder = entry.is_dir(follow_symlinks=False)
            skipped.append(Skipped(relative_name(path, root), "hidden folder" if is_folder else "hidden file"))
        elif entry.is_dir(follow_symlinks=False):
            _walk(path, root, found, skipped)
        else:
            _consider(path, root, found, skipped)


def discover(targets: list[Path]) -> tuple[list[Found], list[Skipped]]:
    """Supported files under `targets` (folders walked recursively, sorted) and every skip with a reason.

    Hidden files and folders are reported, not walked; symlinks pointing outside the named folder
    are reported, not followed; a path named twice is found once.
    """
    found: list[Found] = []
    skipped: list[Skipped] = []
    for named in targets:
        target = Path(named).absolute()
        if not target.exists() and not target.is_symlink():
            skipped.append(Skipped(str(named), "no such file or folder"))
        elif target.is_dir() and not target.is_symlink():
            root = target.resolve()
            _walk(root, root, found, skipped)
        else:
            root = target.parent.resolve()
            _consider(root / target.name, root, found, skipped)
    unique: dict[Path, Found] = {}
    for item in found:
        unique.setdefault(item.path.absolute(), item)
    return list(unique.values()), skipped
