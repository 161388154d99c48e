"""`newsrag bench --scale N1,N2,...`: the cost curve. For each N, N synthetic articles are made
from a real corpus's sentences and ingested into a fresh index in its own process (so each N's
peak RSS is its own), then measured: ingest docs/s, answer p50/p95, retrieval MRR, peak RSS, index
size on disk.

Synthetic articles. Article i has a *lead* source article (the sources taken round-robin) and
carries a window of its body sentences (round r = i // sources takes the r-th disjoint window, so
two articles of one lead share no lead sentence while the source is long enough), then single
sentences drawn from the other sources (seeded per article), up to a length drawn from the source
corpus's own distribution. Each opens with a dateline (a distinct date per article, which the
readers parse) and no headline: the source headline is the query.

Retrieval task ("story headline"): the query is a lead source's headline (never indexed: no
synthetic text holds headlines); a hit is any synthetic article carrying that lead's window (at
N above the number of sources a story has several such articles, each a different slice of it).
The filler sentences of the same source scattered through other articles are the distractors.

Ingest is measured as a user adding files over time would: `--scale-batch` files per `ingest`
call, each into the index the previous calls built; docs/s is over all calls, and the last call's
rate (`last_batch_docs_per_s`) is the marginal rate at size N.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evals.bench import (
    ROOT, SUBPROCESS_TIMEOUT_S, _child_env, _files, _measure_latency, peak_rss_mb, ranked_sources, split_headline,
    summarize, warm_up_ingest, write_json,
)

_SENTENCE_END = re.compile(r"(?<=[.!?])[\"”’']?\s+(?=[\"“‘A-Z0-9])")
_PLACES = ("LONDON", "MANCHESTER", "EDINBURGH", "CARDIFF", "BELFAST", "BRUSSELS", "NEW YORK", "PARIS")
# Dates the readers accept (19xx/20xx, never in the future): one a day, distinct up to ~27,000 articles.
_FIRST_DAY, _LAST_DAY = dt.date(1950, 1, 1), dt.date(2024, 12, 31)


@dataclass(frozen=True)
class Story:
    """One source article: its headline and its body sentences, in order."""

    headline: str
    sentences: tuple[str, ...]


@dataclass(frozen=True)
class Synthetic:
    name: str  # file name, unique
    lead: int  # index of the source story whose window it carries
    published: dt.date
    text: str
    sentences: tuple[str, ...]  # body sentences, for the near-duplicate check


def sentences_of(body: str) -> list[str]:
    """Paragraphs split into sentences at end punctuation followed by a capital (BBC prose)."""
    out: list[str] = []
    for paragraph in re.split(r"\n\s*\n|\n", body):
        out += [s.strip() for s in _SENTENCE_END.split(paragraph.strip()) if len(s.split()) >= 4]
    return out


def load_stories(corpus: Path, min_sentences: int) -> list[Story]:
    """Articles of `corpus` (round-robin over categories, as the bench reads them) with a headline
    and at least `min_sentences` body sentences. Undecodable bytes are replaced, never fatal."""
    stories = []
    for path in _files(corpus):
        headline, body = split_headline(path.read_text(encoding="utf-8", errors="replace"))
        sentences = sentences_of(body)
        if headline and len(sentences) >= min_sentences:
            stories.append(Story(headline, tuple(sentences)))
    return stories


def _window(story: Story, round_: int, rounds: int, longest: int) -> tuple[str, ...]:
    """The round's slice of the story: disjoint across rounds while the story is long enough."""
    size = max(1, min(longest, len(story.sentences) // rounds))
    start = (round_ * size) % len(story.sentences)
    return tuple(story.sentences[start : start + size])


def synthesize(stories: list[Story], n: int, *, seed: int, lead_sentences: int,
               max_shared: float = 0.2) -> list[Synthetic]:
    """N distinct dated articles; deterministic for a given seed and source corpus. No two share
    more than `max_shared` of the shorter one's sentences (at least one may be shared): lead
    windows are disjoint or wrap by one, fillers never come from any lead window, and a filler
    that would push an overlap past the bound is drawn again."""
    if not stories:
        raise ValueError("no source stories to build synthetic articles from")
    rounds = -(-n // len(stories))
    windows = [_window(stories[i % len(stories)], i // len(stories), rounds, lead_sentences) for i in range(n)]
    leads = {sentence for window in windows for sentence in window}
    pool = [(s, x) for s, story in enumerate(stories) for x in story.sentences if x not in leads]
    holders: dict[str, list[int]] = {}  # sentence -> the articles that hold it
    articles: list[Synthetic] = []
    for i in range(n):
        lead = i % len(stories)
        rng = random.Random(f"{seed}:{i}")
        length = max(len(stories[rng.randrange(len(stories))].sentences), len(windows[i]) + 1)
        body = list(windows[i])
        shared: dict[int, int] = {}
        for sentence in body:
            for other in holders.get(sentence, ()):
                shared[other] = shared.get(other, 0) + 1
        for _ in range(50 * length):  # a bounded number of draws, so a tiny corpus cannot loop forever
            if len(body) >= length:
                break
            source, sentence = pool[rng.randrange(len(pool))]
            others = holders.get(sentence, ())
            if source == lead or sentence in body or any(
                    shared.get(o, 0) + 1 > max(1, int(max_shared * min(length, len(articles[o].sentences))))
                    for o in others):
                continue
            body.append(sentence)
            for other in others:
                shared[other] = shared.get(other, 0) + 1
        for sentence in body:
            holders.setdefault(sentence, []).append(i)
        published = _FIRST_DAY + dt.timedelta(days=i % (_LAST_DAY - _FIRST_DAY).days)
        text = _render(body, published, _PLACES[rng.randrange(len(_PLACES))], rng)
        articles.append(Synthetic(f"story-{i:07d}.txt", lead, published, text, tuple(body)))
    return articles


def _render(body: list[str], published: dt.date, place: str, rng: random.Random) -> str:
    """A dateline paragraph (what the readers take the date from), then paragraphs of 1-3 sentences."""
    paragraphs, rest = [f"{place}, {published:%B} {published.day}, {published.year} — {body[0]}"], body[1:]
    while rest:
        take = rng.randint(1, 3)
        paragraphs.append(" ".join(rest[:take]))
        rest = rest[take:]
    return "\n\n".join(paragraphs) + "\n"


def write_batches(articles: list[Synthetic], target: Path, batch: int) -> list[Path]:
    """The articles as files in folders of `batch` (all in one folder when batch is 0)."""
    size = batch or len(articles)
    folders = []
    for b, start in enumerate(range(0, len(articles), size)):
        folder = target / f"batch-{b:05d}"
        folder.mkdir(parents=True, exist_ok=True)
        for article in articles[start : start + size]:
            (folder / article.name).write_text(article.text, encoding="utf-8")
        folders.append(folder)
    return folders


def story_queries(articles: list[Synthetic], stories: list[Story], count: int) -> list[dict[str, Any]]:
    """`count` leads spread over the articles: headline -> the sources of every article carrying it."""
    relevant: dict[int, list[str]] = {}
    for article in articles:
        relevant.setdefault(article.lead, []).append(article.name)
    leads = sorted(relevant)
    step = max(1, len(leads) // count)
    return [{"query": stories[lead].headline, "relevant": relevant[lead]} for lead in leads[::step][:count]]


def story_quality(assistant: Any, queries: list[dict[str, Any]], top_k: int) -> dict[str, float]:
    """hit@1/hit@5/MRR of the product's default retrieval: rank of the first relevant article."""
    ranks: list[int | None] = []
    for q in queries:
        sources = ranked_sources(assistant.retrieve(q["query"], top_k=top_k))
        found = [r for r, s in enumerate(sources, start=1) if Path(s).name in set(q["relevant"])]
        ranks.append(found[0] if found else None)
    return summarize(ranks)


def folder_mb(path: Path) -> float:
    return round(sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6, 1)


def _ingest_batches(assistant: Any, folders: list[Path]) -> dict[str, Any]:
    """Each folder one `ingest` call into the growing index; the time of each call."""
    seconds: list[float] = []
    documents = 0
    for folder in folders:
        started = time.perf_counter()
        report = assistant.ingest([folder], prune=False)
        seconds.append(time.perf_counter() - started)
        documents += report.added + report.updated
    last = len(list(folders[-1].iterdir()))
    return {
        "documents": documents, "seconds": round(sum(seconds), 2), "batches": len(folders),
        "docs_per_s": round(documents / sum(seconds), 2),
        "last_batch_docs_per_s": round(last / seconds[-1], 2),
    }


def measure_one(corpus: Path, n: int, *, batch: int, questions: int, top_k: int, seed: int,
                lead_sentences: int, work: Path) -> dict[str, Any]:
    """Everything for one N, in this process (run it in a child for a per-N peak RSS)."""
    from rag.assistant import Assistant
    from rag.settings import Settings

    stories = load_stories(corpus, min_sentences=lead_sentences)
    articles = synthesize(stories, n, seed=seed, lead_sentences=lead_sentences)
    folders = write_batches(articles, work / "corpus", batch)
    data = work / "data"
    assistant = Assistant(Settings(data_dir=data, corpus_dir=work / "corpus"))
    warm_up_ingest(assistant, next(folders[0].iterdir()))
    ingest = _ingest_batches(assistant, folders)
    manifest = assistant.manifest()
    queries = story_queries(articles, stories, questions)
    quality = story_quality(assistant, queries, top_k)
    latency = _measure_latency(assistant, [q["query"] for q in queries], questions)
    return {
        "articles": n, "indexed": len(manifest.docs), "chunks": len(manifest.chunk_ids),
        "dated": sum(1 for d in manifest.docs.values() if d.published),
        "grouped_as_duplicates": sum(1 for d in manifest.docs.values() if d.group),
        "ingest_docs_per_s": ingest["docs_per_s"], "last_batch_docs_per_s": ingest["last_batch_docs_per_s"],
        "ingest_seconds": ingest["seconds"], "ingest_batches": ingest["batches"],
        "answer_p50_ms": latency["answer_p50_ms"], "answer_p95_ms": latency["answer_p95_ms"],
        "retrieve_p50_ms": latency["retrieve_p50_ms"],
        "retrieval_mrr": quality["mrr"], "retrieval_hit@1": quality["hit@1"], "retrieval_hit@5": quality["hit@5"],
        "queries": len(queries), "peak_rss_mb": peak_rss_mb(), "index_mb": folder_mb(data),
        "load_average": [round(x, 2) for x in _loadavg()],
    }


def _loadavg() -> tuple[float, ...]:
    try:
        return tuple(float(x) for x in Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return ()


def run_scale(corpus: Path, sizes: list[int], *, batch: int, questions: int, top_k: int, seed: int,
              lead_sentences: int, partial: Path | None = None) -> dict[str, Any]:
    """Each N in a child process of its own (`python -m evals.scale`), one after another; the rows
    so far are written to `partial` after each (a 20,000-article run takes the better part of an hour)."""
    rows = []
    for n in sizes:
        with tempfile.TemporaryDirectory(prefix=f"newsrag-scale-{n}-") as work:
            out = Path(work) / "result.json"
            cmd = [sys.executable, "-m", "evals.scale", "--corpus", str(corpus), "--n", str(n), "--batch", str(batch),
                   "--questions", str(questions), "--top-k", str(top_k), "--seed", str(seed),
                   "--lead-sentences", str(lead_sentences), "--work", work, "--out", str(out)]
            proc = subprocess.run(cmd, cwd=ROOT, env=_child_env(), capture_output=True, text=True,
                                  timeout=SUBPROCESS_TIMEOUT_S * 4)
            if proc.returncode != 0:
                raise RuntimeError(f"scale run for {n} articles failed ({proc.returncode}): {proc.stderr[-3000:]}")
            rows.append(json.loads(out.read_text(encoding="utf-8")))
            print(format_scale([rows[-1]]).splitlines()[-1], file=sys.stderr, flush=True)
        result = {"scale": rows, "corpus": str(corpus), "batch": batch, "seed": seed, "top_k": top_k}
        if partial is not None:
            write_json(partial, result)
    return result


COLUMNS = ("articles", "ingest_docs_per_s", "last_batch_docs_per_s", "answer_p50_ms", "answer_p95_ms",
           "retrieval_mrr", "peak_rss_mb", "index_mb", "chunks")


def format_scale(rows: list[dict[str, Any]]) -> str:
    widths = [max(len(c), 8) for c in COLUMNS]
    lines = ["  ".join(c.rjust(w) for c, w in zip(COLUMNS, widths))]
    lines += ["  ".join(str(r[c]).rjust(w) for c, w in zip(COLUMNS, widths)) for r in rows]
    return "\n".join(lines)


def parse_sizes(text: str) -> list[int]:
    sizes = [int(part) for part in text.split(",") if part.strip()]
    if not sizes or min(sizes) < 1:
        raise ValueError("--scale takes article counts like 1000,4000")
    return sizes


def main(argv: list[str] | None = None) -> int:
    """The child process of one N (run_scale starts it)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m evals.scale")
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--n", type=int, required=True)
    parser.add_argument("--batch", type=int, default=250)
    parser.add_argument("--questions", type=int, default=100)
    parser.add_argument("--top-k", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lead-sentences", type=int, default=4)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    a = parser.parse_args(argv)
    result = measure_one(a.corpus, a.n, batch=a.batch, questions=a.questions, top_k=a.top_k, seed=a.seed,
                         lead_sentences=a.lead_sentences, work=a.work)
    a.out.write_text(json.dumps(result), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
