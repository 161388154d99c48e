"""The extractive reader: a small question-answering model that finds the answer span in a passage.

MiniLM-L6 fine-tuned on SQuAD (int8 ONNX, shipped in `rag/models/data/reader-minilm-l6-squad` with
its model card and checksums) on onnxruntime + tokenizers, like the other models: no torch on the
query path. It reads `[CLS] question [SEP] passage [SEP]` and gives start/end logits per token; the
best span is the answer and the [CLS] pair is the "no answer" score. `margin` = no-answer score -
best span score: the lower, the surer. It tells "this passage is about something else" well and
"this passage holds a plausible wrong answer" poorly, so callers combine it with the cross-encoder.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from rag.errors import NotConfigured
from rag.models.files import feeds, open_session, verify

PACKAGED = Path(__file__).resolve().parent / "data" / "reader-minilm-l6-squad"
READER_FILES = ("model.onnx", "tokenizer.json")


@dataclass(frozen=True)
class Span:
    """The reader's best answer in one passage: character offsets into that passage."""

    passage: int  # index of the passage in the call
    start: int
    end: int
    text: str
    score: float  # start + end logit of the span
    no_answer: float  # start + end logit at [CLS], in the window that holds the span

    @property
    def margin(self) -> float:
        """No-answer score minus span score: negative = the passage answers, positive = it does not."""
        return self.no_answer - self.score


def _checksums(folder: Path) -> dict[str, str]:
    """`SHA256SUMS` as sha256sum writes it: `<digest>  <file>` a line."""
    try:
        lines = (folder / "SHA256SUMS").read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise NotConfigured(f"reader model checksums missing in {folder}: reinstall newsrag") from exc
    pairs = (line.split(maxsplit=1) for line in lines if line.strip())
    return {name.strip().lstrip("*"): digest for digest, name in pairs}


class Reader:
    """`read(question, passages)` → one best `Span` per passage (None where no span fits), in one
    batched model call over every window of every passage."""

    def __init__(
        self, path: Path | None = None, *, max_tokens: int, stride: int, max_answer_tokens: int, threads: int
    ) -> None:
        self.path = Path(path) if path is not None else PACKAGED
        self.name = f"onnx:{self.path.name}"
        self.max_tokens, self.stride = max_tokens, stride
        self.max_answer_tokens, self.threads = max_answer_tokens, threads
        self._loaded: tuple[Any, Any, list[str]] | None = None
        self._questions: Any = None  # the same tokenizer without truncation, to measure questions
        self._lock = threading.Lock()

    def _load(self) -> tuple[Any, Any, list[str]]:
        if self._loaded is None:
            with self._lock:
                if self._loaded is None:
                    self._loaded = self._open()
        return self._loaded

    def _open(self) -> tuple[Any, Any, list[str]]:
        from tokenizers import Tokenizer

        verify(self.path, _checksums(self.path), READER_FILES)
        tokenizer = Tokenizer.from_file(str(self.path / "tokenizer.json"))
        # Long passages are read in overlapping windows, so an answer cut by one window is whole in the next.
        tokenizer.enable_truncation(max_length=self.max_tokens, strategy="only_second", stride=self.stride)
        tokenizer.no_padding()
        self._questions = Tokenizer.from_file(str(self.path / "tokenizer.json"))
        self._questions.no_truncation()
        self._questions.no_padding()  # tokenizer.json pads to a fixed length: offsets of padding are (0, 0)
        session = open_session(self.path / "model.onnx", self.threads)
        return tokenizer, session, [i.name for i in session.get_inputs()]

    def warm_up(self) -> None:
        self.read("What is loaded?", ["The reader model is loaded."])

    def read(self, question: str, passages: Sequence[str], evidence_from: Sequence[int] | None = None) -> list[Span | None]:
        """`evidence_from[i]`: the character of passage i where answers may start; what comes
        before it (a headline put in front for context) is read but never answers."""
        if not passages:
            return []
        starts = list(evidence_from) if evidence_from is not None else [0] * len(passages)
        tokenizer, session, inputs = self._load()
        question = self._clip(question)
        windows: list[tuple[int, Any]] = []
        for index, enc in enumerate(tokenizer.encode_batch([(question, p) for p in passages])):
            windows += [(index, w) for w in [enc, *enc.overflowing]]
        start_logits, end_logits = session.run(None, feeds([w for _, w in windows], inputs))
        best: list[Span | None] = [None] * len(passages)
        for row, (index, window) in enumerate(windows):
            span = self._best_span(index, passages[index], window, start_logits[row], end_logits[row], starts[index])
            if span is not None and (best[index] is None or span.score > best[index].score):
                best[index] = span
        return best

    def _clip(self, question: str) -> str:
        """The question's first `max_tokens // 4` word pieces (SQuAD readers take 64 of 384): a
        question as long as a window would leave no room for the passage."""
        limit = self.max_tokens // 4
        offsets = self._questions.encode(question, add_special_tokens=False).offsets
        return question if len(offsets) <= limit else question[: offsets[limit - 1][1]]

    def _best_span(
        self, index: int, passage: str, window: Any, starts: np.ndarray, ends: np.ndarray, first: int
    ) -> Span | None:
        """The highest start+end logit pair inside the passage part of one window, at most
        `max_answer_tokens` long (the decoding the model was trained with), from char `first` on."""
        n = len(window.ids)
        inside = np.array([sid == 1 and off[0] >= first for sid, off in zip(window.sequence_ids[:n], window.offsets[:n])])
        if not inside.any():
            return None
        s = np.where(inside, starts[:n], -np.inf)
        e = np.where(inside, ends[:n], -np.inf)
        pair = s[:, None] + e[None, :]
        i, j = np.indices(pair.shape)
        pair[(j < i) | (j - i >= self.max_answer_tokens)] = -np.inf
        flat = int(np.argmax(pair))
        i0, j0 = divmod(flat, n)
        start, end = window.offsets[i0][0], window.offsets[j0][1]
        return Span(index, start, end, passage[start:end], float(pair[i0, j0]), float(starts[0] + ends[0]))
