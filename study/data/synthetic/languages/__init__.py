"""Hand-written grammars of the embedded corpus, one module per language."""

from __future__ import annotations

from study.data.synthetic.grammar import Grammar
from study.data.synthetic.languages import ar, de, el, en, es, fr, hi, ja, ru, sw

GRAMMARS: dict[str, Grammar] = {
    m.GRAMMAR.code: m.GRAMMAR for m in (ar, de, el, en, es, fr, hi, ja, ru, sw)
}
