"""The target database: where it is, how to reach it, what it holds."""
