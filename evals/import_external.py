"""Copy the RealTimeQA sets of `../shared/external/` into the repository as the `external` corpus.

    python -m evals.import_external ../shared/external

A fresh clone has no `../shared`, so the passages and the gold live in `evals/`: each split's passages
in `corpora/external/<split>/`, its gold in `gold/<split>/external.jsonl` (the harness's schema), and
the release's README (provenance and copyright) beside them. Run once; the copies are committed.

The mapping is field for field: `answers` keeps its groups, `direct` (a one-item list there) becomes
the string, `kind`, `sources` and `answerable` are kept, ids become `rtqa-<id>` like the source names.
The harness scores a whole word of the passage, so where a passage writes the quiz's answer in
another form ("Indian" for "India", "bananas" for "Banana") that form joins the answer group and
is the `direct` answer (the quiz's word cannot be quoted); the table below lists each, read from
the passage. A question whose answer the passage does not write in any form is left out and listed.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from evals.scoring import contains

HERE = Path(__file__).resolve().parent
CORPUS_DIR = HERE / "corpora" / "external"
SPLITS = {"dev": "realtimeqa-dev", "test": "realtimeqa-test"}

# Quiz answer -> the form its passage writes it in (checked against the passage on import).
PASSAGE_FORMS: dict[str, str] = {
    "20210917_13": "Indian",        # "The Indian government began halting vaccine exports"
    "20200124_10": "snakes",        # "two species of venomous snakes"
    "20220408_12": "farts",         # "holding in her farts for two years"
    "20200828_17": "Russian",       # "a Russian military convoy"
    "20211112_9": "bananas",        # "by eating bananas"
    "20210312_29": "sea slugs",     # "Two species of sea slugs"
    "20220930_23": "Cubans",        # "Cubans voted in favour of a family code"
    "20230804_6": "roundworm",      # "The microscopic roundworm, or nematode"
    "20230310_24": "romantic",      # "Sales of romantic fiction novels"
    "20230623_19": "Australian",    # "Australian firm Corporate Travel Management"
    "20230616_21": "Cuban",         # "... on the island ... The US and Cuban governments"
    "20240705_5": "Croatian",       # "The Croatian football association"
    "20241220_2": "buses",          # "five self-driving buses"
}
# Left out: the passage does not write the answer in any form.
LEFT_OUT: dict[str, str] = {
    "20240705_19": "'How many US presidents have been born on July 4?' (1): the passage names Coolidge, no count",
}

# Heads the copied README, whose text (with its copyright note) follows unchanged.
COPY_NOTE = """<!-- Copied by `python -m evals.import_external` from the shared external folder. Here each
split's passages are in `dev/` and `test/` (the corpus `external`), its gold in
`evals/gold/<split>/external.jsonl`; evals/import_external.py says how fields were mapped and which
questions were adjusted or left out. -->

"""


def convert(row: dict, passages: Path) -> dict:
    """One RealTimeQA gold row in the harness's schema."""
    item = {"id": f"rtqa-{row['id']}", "question": row["question"], "answers": [list(g) for g in row["answers"]],
            "sources": list(row["sources"]), "answerable": row["answerable"], "kind": row["kind"]}
    if not row["answerable"]:
        return item
    (direct,) = row["direct"]  # one short answer per quiz question
    form = PASSAGE_FORMS.get(row["id"])
    if form is not None:
        for source in row["sources"]:
            if not contains((passages / source).read_text(encoding="utf-8"), form):
                raise ValueError(f"{row['id']}: {form!r} is not in {source}")
        item["answers"][0].append(form)
        direct = form
    item["direct"] = direct
    return item


def import_split(source: Path, split: str) -> tuple[int, int]:
    """Copy one split's passages and gold; (passages, questions)."""
    passages = source / SPLITS[split] / "corpus"
    target = CORPUS_DIR / split
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for path in sorted(passages.glob("*.txt")):
        shutil.copyfile(path, target / path.name)
    rows = [json.loads(line) for line in (source / SPLITS[split] / "gold.jsonl").read_text(encoding="utf-8").splitlines()
            if line.strip()]
    items = [convert(row, passages) for row in rows if row["id"] not in LEFT_OUT]
    gold = HERE / "gold" / split / "external.jsonl"
    gold.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items), encoding="utf-8")
    return len(list(target.glob("*.txt"))), len(items)


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not (Path(argv[0]) / "README.md").is_file():
        print("usage: python -m evals.import_external PATH (the folder holding realtimeqa-dev/, realtimeqa-test/ "
              "and README.md)", file=sys.stderr)
        return 2
    source = Path(argv[0])
    CORPUS_DIR.mkdir(parents=True, exist_ok=True)
    (CORPUS_DIR / "README.md").write_text(COPY_NOTE + (source / "README.md").read_text(encoding="utf-8"), encoding="utf-8")
    for split in SPLITS:
        n_passages, n_items = import_split(source, split)
        print(f"{split}: {n_passages} passages, {n_items} questions")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
