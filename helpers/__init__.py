"""Small helpers shared by the lessons of *Counting to Shakespeare*.

Each module does one thing and is imported explicitly by the notebooks, for example::

    from helpers.budget import budget
    from helpers.data import load_text

Importing this package has no side effects: it reads no files and starts no downloads.
"""

__version__ = "0.1.0"
