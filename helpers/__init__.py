"""Small helpers shared by the lessons of *Counting to Shakespeare*, one module each, imported
explicitly (``from helpers.lesson import budget``). Importing has no side effects."""
