"""The Whoosh index on disk: its schema, its generations, building it from the store, and reading it fast."""
