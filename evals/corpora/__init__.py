"""The corpora the gold files are about, and where each one comes from.

A gold file's stem names its corpus: `gold/<split>/seeds.jsonl` is about `seeds`, `bbc.jsonl` about
`bbc`, `dated.jsonl` about `dated`, `external.jsonl` about RealTimeQA's passages. `prepare` returns the folder to ingest, so the source names the
system reports are the names the gold files use. Every article lives in the repository: the BBC
ones the gold sets and tests quote are byte-for-byte copies under `bbc/<category>/<file>`.
"""

from __future__ import annotations

import shutil
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
BBC_DIR = HERE / "bbc"
BBC_LIST = BBC_DIR / "articles.txt"
# BBC_DIR holds both splits' articles; each split ingests a copy of only its own listing, so
# tuning on dev never ingests (or reads) a test article.
BBC_LISTS = {"test": BBC_LIST, "dev": BBC_DIR / "dev_articles.txt"}
DATED_DIR = HERE / "dated"
# Multi-article BBC stories for the briefing gold sets; each split lists its own stories and distractors.
STORIES_DIR = HERE / "stories"
STORIES_LISTS = {split: STORIES_DIR / f"{split}_articles.txt" for split in ("test", "dev")}
SEEDS_DIR = REPO / "seeds"
# RealTimeQA news-quiz passages (evals/import_external.py): questions written by others. Each split
# ingests only its own passages (dev 2020-22, test 2023-24), as with bbc.
EXTERNAL_DIR = HERE / "external"


class CorpusError(Exception):
    """A corpus cannot be prepared; the message is one line meant for the user."""


def bbc_articles(listing: Path = BBC_LIST) -> tuple[list[str], list[str]]:
    """(gold articles, distractors) from articles.txt: one `category/file` a line, distractors after
    a `# distractors` line; other `#` lines are comments."""
    gold: list[str] = []
    distractors: list[str] = []
    target = gold
    for raw in listing.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.lower().startswith("# distractors"):
            target = distractors
        elif line and not line.startswith("#"):
            target.append(line)
    return gold, distractors


def _copy_listed(workdir: Path, listing: Path, base: Path, name: str) -> Path:
    """A folder with only `listing`'s articles from `base` (the bbc or the stories corpus)."""
    if not base.is_dir():
        raise CorpusError(f"the {name} corpus is missing: expected its articles in {base}")
    folder = workdir / name.lower()
    shutil.rmtree(folder, ignore_errors=True)  # our copy: only this listing's articles, nothing stale
    gold, distractors = bbc_articles(listing)
    for rel in gold + distractors:
        src = base / rel
        if not src.is_file():
            raise CorpusError(f"{listing.name} lists {rel}, which is not in {base}")
        dest = folder / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)
    return folder


def prepare(name: str, workdir: Path, split: str = "test") -> Path:
    """The folder to ingest for corpus `name` in gold split `split` (copies are made under `workdir`
    when needed)."""
    if name == "seeds":
        return SEEDS_DIR
    if name == "dated":
        return DATED_DIR
    if name == "bbc":
        return _copy_listed(workdir, BBC_LISTS[split], BBC_DIR, "BBC")
    if name == "stories":
        return _copy_listed(workdir, STORIES_LISTS[split], STORIES_DIR, "stories")
    if name == "external":
        folder = EXTERNAL_DIR / split
        if not folder.is_dir():
            raise CorpusError(f"the external corpus is missing: expected its {split} passages in {folder}")
        return folder
    raise CorpusError(f"no corpus named {name!r}: a gold file's stem must be one of seeds, bbc, dated, stories, external")


def source_path(name: str, source: str, split: str = "test") -> Path:
    """Where the article behind a gold `source` of `split` lives (for checks that read the text)."""
    if name == "external":
        return EXTERNAL_DIR / split / source
    base = {"seeds": SEEDS_DIR, "dated": DATED_DIR, "bbc": BBC_DIR, "stories": STORIES_DIR}.get(name)
    if base is None:
        raise CorpusError(f"no corpus named {name!r}")
    return base / source
