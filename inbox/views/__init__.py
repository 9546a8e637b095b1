"""HTTP only: the staff pages. Reads go through inbox.scope and inbox.selectors."""
