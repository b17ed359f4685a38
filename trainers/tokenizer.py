"""A WordPiece tokenizer built locally from a corpus's captions, cached by corpus fingerprint."""

from __future__ import annotations

import itertools
import warnings
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import torch
from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
from transformers import PreTrainedTokenizerFast

from trainers.atomic_output import cached_dir

_CHUNK = 50_000  # caption rows read at a time (training a tokenizer, caching token ids)
SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
# Scripts written without spaces between words: split them into characters before WordPiece.
_UNSPACED_SCRIPTS = r"[\p{Han}\p{Hiragana}\p{Katakana}]"


def _blank_tokenizer() -> Tokenizer:
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]", max_input_chars_per_word=100))
    # NFKC folds full-width forms; case and diacritics are kept (they carry meaning in many scripts).
    tok.normalizer = normalizers.NFKC()
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.WhitespaceSplit(),
            pre_tokenizers.Punctuation(),
            pre_tokenizers.Split(Regex(_UNSPACED_SCRIPTS), behavior="isolated"),
        ]
    )
    tok.decoder = decoders.WordPiece(prefix="##")
    return tok


class VocabularyWarning(UserWarning):
    """The vocabulary cannot hold every character of the corpus within its size."""


def _vocabulary(counts: Counter[str], vocab_size: int) -> list[str]:
    """At most `vocab_size` tokens: the special tokens, the characters, then frequent words.

    Characters: each alone and as a `##` continuation; if those do not fit, only what the
    corpus's words need (a character alone where it starts a word, a continuation where it
    occurs inside one); if even that does not fit, the most frequent of those (and a
    VocabularyWarning with the size that holds them all).
    """
    chars = sorted({c for word in counts for c in word})
    starts = sorted({word[0] for word in counts})
    inner = sorted({c for word in counts for c in word[1:]})
    budget = vocab_size - len(SPECIAL_TOKENS)
    units = [*chars, *(f"##{c}" for c in chars)]
    if len(units) > budget:
        units = [*starts, *(f"##{c}" for c in inner)]
    if len(units) > budget:
        freq: Counter[str] = Counter()
        for word, n in counts.items():
            freq[word[0]] += n
            freq.update({f"##{c}": n for c in word[1:]})
        ranked = sorted(units, key=lambda u: (-freq[u], u))
        lost = sum(freq[u] for u in ranked[budget:]) / sum(freq.values())
        need = len(units) + len(SPECIAL_TOKENS)
        warnings.warn(
            f"model.text_tower.vocab_size {vocab_size} cannot hold every character of the corpus: "
            f"its words need {len(units)} character tokens (and {len(SPECIAL_TOKENS)} special "
            f"ones), {need} in all; kept the {budget} most frequent and no whole words, so words "
            f"with the others ({lost:.2%} of character occurrences) become [UNK]; set vocab_size "
            f"to at least {need} (more leaves room for words)",
            VocabularyWarning,
            stacklevel=3,
        )
        kept = set(ranked[:budget])
        units = [u for u in units if u in kept]
    vocab = [*SPECIAL_TOKENS, *units]
    known = set(vocab)
    words = (w for w in sorted(counts, key=lambda w: (-counts[w], w)) if w not in known)
    return vocab + list(itertools.islice(words, max(0, vocab_size - len(vocab))))


def train_tokenizer(texts: Iterable[str], vocab_size: int, out_dir: str | Path) -> Path:
    """Build a WordPiece tokenizer from `texts` and save it (Hugging Face format) to `out_dir`.

    The vocabulary holds at most `vocab_size` tokens: the special tokens, every character
    (alone and as a `##` continuation, so nothing is unknown; when that does not fit, only what
    the corpus's words need), then the most frequent words (ties alphabetical). When the
    characters alone exceed the size, the most frequent are kept and a VocabularyWarning states
    the size that holds them all. Deterministic: the `tokenizers` trainers assign ids in
    hash-map order and differ from run to run (huggingface/tokenizers#1794), which would make the
    same study train different models.
    """
    tok = _blank_tokenizer()
    counts: Counter[str] = Counter()
    for text in texts:
        words = tok.pre_tokenizer.pre_tokenize_str(tok.normalizer.normalize_str(text))
        counts.update(word for word, _ in words)
    vocab = _vocabulary(counts, vocab_size)
    tok.model = models.WordPiece(
        {token: i for i, token in enumerate(vocab)}, unk_token="[UNK]", max_input_chars_per_word=100
    )
    cls_id, sep_id = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B [SEP]",
        special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)],
    )
    wrapped = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        pad_token="[PAD]",
        unk_token="[UNK]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
    )
    wrapped.save_pretrained(str(out_dir))
    return Path(out_dir)


def ensure_tokenizer(
    texts: Iterable[str], fingerprint: str, vocab_size: int, cache_dir: str | Path
) -> Path:
    """The cached tokenizer dir for (corpus fingerprint, vocab size); trained on first use.

    Safe for concurrent workers: each trains into a private temporary dir and renames it into
    place; the first rename wins and later ones are discarded.
    """
    target = Path(cache_dir).expanduser() / "tokenizers" / f"{fingerprint}-v{vocab_size}"
    return cached_dir(target, lambda tmp: train_tokenizer(texts, vocab_size, tmp))


def load_tokenizer(path: str | Path) -> PreTrainedTokenizerFast:
    """Load a tokenizer saved with `save_pretrained` (a trained one, or a model's own)."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(path), local_files_only=True)


def caption_chunks(corpus) -> Iterator[list[str]]:
    """Every caption text of `corpus` in row order, a chunk of rows at a time."""
    rows = corpus.captions.num_rows
    for start in range(0, rows, _CHUNK):
        yield corpus.texts(np.arange(start, min(start + _CHUNK, rows)))


def corpus_tokenizer(corpus, vocab_size: int, cache_dir: str | Path) -> Path:
    """The cached tokenizer trained on every caption of `corpus` (read in chunks)."""
    texts = itertools.chain.from_iterable(caption_chunks(corpus))
    return ensure_tokenizer(texts, corpus.fingerprint(), vocab_size, cache_dir)


def token_ids(tokenizer: PreTrainedTokenizerFast, texts: list[str], max_length: int) -> list:
    """Token ids of each text, truncated to `max_length`, unpadded."""
    return tokenizer(texts, truncation=True, max_length=max_length)["input_ids"]


def flat_token_ids(ids: list) -> tuple[np.ndarray, np.ndarray]:
    """(all ids concatenated, length of each text) of per-text id lists."""
    lengths = np.fromiter(map(len, ids), np.int64, len(ids))
    flat = np.fromiter(itertools.chain.from_iterable(ids), np.int64, int(lengths.sum()))
    return flat, lengths


def pad_token_ids(
    tokenizer: PreTrainedTokenizerFast, flat: np.ndarray, lengths: np.ndarray, device: torch.device
) -> dict[str, torch.Tensor]:
    """input_ids and attention_mask [n, longest] of texts given as `flat_token_ids`, padded on
    the tokenizer's padding side."""
    longest = int(lengths.max(initial=0))
    positions = np.arange(longest)
    if tokenizer.padding_side == "left":
        mask = positions >= longest - lengths[:, None]
    else:
        mask = positions < lengths[:, None]
    input_ids = np.full((len(lengths), longest), tokenizer.pad_token_id, np.int64)
    input_ids[mask] = flat
    return {
        "input_ids": torch.from_numpy(input_ids).to(device),
        "attention_mask": torch.from_numpy(mask.astype(np.int64)).to(device),
    }


def tokenize(
    tokenizer: PreTrainedTokenizerFast, texts: list[str], max_length: int, device: torch.device
) -> dict[str, torch.Tensor]:
    """input_ids and attention_mask [n, <= max_length], padded to the longest text."""
    return pad_token_ids(
        tokenizer, *flat_token_ids(token_ids(tokenizer, texts, max_length)), device
    )
