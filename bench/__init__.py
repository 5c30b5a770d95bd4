"""Relevance benchmark: real corpora, judged queries and query perturbations."""
