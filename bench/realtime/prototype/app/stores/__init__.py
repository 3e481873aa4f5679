"""Data access per store: plain SQL over psycopg, one module per store."""
