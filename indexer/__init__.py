"""Getting calls into the store and keeping the Whoosh index in step with it."""
