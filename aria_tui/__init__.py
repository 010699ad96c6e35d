"""aria-tui: cut a PostgreSQL CSV export over into PostgreSQL 16+ / pgvector, with proof."""

__version__ = "0.1.0"
