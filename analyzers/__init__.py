"""Text analysis shared by the indexer and the search service."""
