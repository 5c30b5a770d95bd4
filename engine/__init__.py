"""Ranking by meaning: text embeddings behind one small interface (see :mod:`engine.embedding`)."""
