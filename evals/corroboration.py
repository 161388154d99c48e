"""`python -m evals.corroboration [--split dev|test]`: precision and recall of corroboration on
hand-labelled pairs over the BBC stories corpus (evals/gold/corroboration/<split>.jsonl).

Each pair names a claim (a sentence of one article, verbatim) and another article; it is labelled
by reading both: does the other article state the claim's fact in its own words (`corroborates`)?
`kind` says why ('same figure', 'different figure', 'same figure, another story', 'wire copy',
...). The detector sees the claim and every sentence of the other article, with the product's
sentence vectors, and the two articles' wire group as ingest would compute it (MinHash). Tune on
dev only. `--self-test` checks the scoring arithmetic without a model.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent
GOLD = ROOT / "gold" / "corroboration"
CORPUS = ROOT / "corpora" / "stories"


@dataclass(frozen=True)
class Score:
    tp: int
    fp: int
    fn: int
    tn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


def score(pairs: list[tuple[bool, bool]]) -> Score:
    """(gold, predicted) pairs -> the confusion counts."""
    return Score(tp=sum(g and p for g, p in pairs), fp=sum(p and not g for g, p in pairs),
                 fn=sum(g and not p for g, p in pairs), tn=sum(not g and not p for g, p in pairs))


def self_test() -> None:
    s = score([(True, True), (True, False), (False, True), (False, False), (True, True)])
    assert (s.tp, s.fp, s.fn, s.tn) == (2, 1, 1, 1), s
    assert abs(s.precision - 2 / 3) < 1e-9 and abs(s.recall - 2 / 3) < 1e-9
    assert score([(False, False)]).precision == 1.0 and score([]).recall == 1.0


def load(split: str) -> list[dict]:
    path = GOLD / f"{split}.jsonl"
    if not path.exists():
        raise SystemExit(f"no gold file {path.relative_to(ROOT.parent)}")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def predict(rows: list[dict]) -> list[bool]:
    """The detector's verdict on each pair (rag.answering.corroboration.corroborating)."""
    import numpy as np

    from rag.answering.corroboration import Article, CorroborationPolicy, corroborating
    from rag.chunking import sentence_spans
    from rag.evidence import EvidenceSentence
    from rag.index.dedup import signature, similarity
    from rag.models import make_embedder
    from rag.settings import Settings

    settings = Settings()
    embedder, policy, ix = make_embedder(settings), CorroborationPolicy.from_settings(settings.corroboration), settings.index
    texts = {s: (CORPUS / s).read_text(encoding="utf-8", errors="replace")
             for r in rows for s in (r["claim_source"], r["other_source"])}
    sigs = {s: signature(t, num_perm=ix.dedup_num_perm, k=ix.dedup_shingle_words, min_words=ix.dedup_min_words)
            for s, t in texts.items()}

    def sentences(source: str, only: str | None = None) -> list[EvidenceSentence]:
        text = texts[source]
        spans = [(s, e) for s, e in sentence_spans(text) if text[s:e].strip() and (only is None or text[s:e].strip() == only)]
        vectors = np.asarray(embedder.embed([text[s:e] for s, e in spans]), dtype=np.float32)
        return [EvidenceSentence(source, "", text[s:e], s, e, source, 1, text, v) for (s, e), v in zip(spans, vectors)]

    verdicts = []
    for r in rows:
        a, b = r["claim_source"], r["other_source"]
        claim = sentences(a, r["claim"])
        if not claim:
            raise SystemExit(f"{r['id']}: its claim is not a sentence of {a}")
        copies = bool(sigs[a]) and bool(sigs[b]) and similarity(sigs[a], sigs[b]) >= ix.dedup_threshold
        articles = {a: Article("", None, "g" if copies else None, None), b: Article("", None, "g" if copies else None, None)}
        verdicts.append(bool(corroborating(claim[0], sentences(b), articles, policy)))
    return verdicts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.corroboration", description=__doc__.split("\n")[0])
    parser.add_argument("--split", choices=("dev", "test"), default="dev")
    parser.add_argument("--self-test", action="store_true", help="check the scoring arithmetic and stop")
    parser.add_argument("--show", action="store_true", help="print every pair the detector gets wrong")
    parser.add_argument("--min-precision", type=float, default=0.0, help="exit 1 below this precision (make test gates the test split)")
    parser.add_argument("--min-recall", type=float, default=0.0, help="exit 1 below this recall")
    args = parser.parse_args(argv)
    self_test()
    if args.self_test:
        print("scorer self-test passed")
        return 0
    rows = load(args.split)
    verdicts = predict(rows)
    s = score([(r["corroborates"], v) for r, v in zip(rows, verdicts)])
    if args.show:
        for r, v in zip(rows, verdicts):
            if v != r["corroborates"]:
                print(f"  {'FP' if v else 'FN'} {r['id']} [{r['kind']}] {r['claim_source']} -> {r['other_source']}: {r['claim'][:90]}")
    print(f"corroboration {args.split}: {len(rows)} pairs ({sum(r['corroborates'] for r in rows)} corroborate), "
          f"precision {s.precision:.3f}, recall {s.recall:.3f} (tp {s.tp}, fp {s.fp}, fn {s.fn}, tn {s.tn})")
    below = [f"{name} {value:.3f} < {floor}" for name, value, floor in
             (("precision", s.precision, args.min_precision), ("recall", s.recall, args.min_recall)) if value < floor]
    if below:
        print(f"corroboration {args.split}: below its floor: {', '.join(below)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
