"""Search indexes: BM25 over Mecab morphemes, dense vectors in FAISS, and their fusion."""
