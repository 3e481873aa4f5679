"""One module per store: its input model (validation) and its SQL (repository functions)."""
