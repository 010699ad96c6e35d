"""aria-tui: cut a PostgreSQL CSV export over into PostgreSQL 16+ / pgvector, with proof."""

from aria_tui import codecache

__version__ = "0.1.0"

codecache.install()  # before any module of the package defines a dataclass
