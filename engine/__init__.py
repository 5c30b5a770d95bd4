"""The search engine: plans a query, evaluates it over posting arrays, ranks and explains the hits (no Flask)."""
