"""Korean text: Mecab morphemes, normalisation and token counts."""
