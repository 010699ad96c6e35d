"""The Textual wizard: the only package that imports Textual. A face on the core, nothing more."""
