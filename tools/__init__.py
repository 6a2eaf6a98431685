"""Course tools that are not part of the lessons (the web site builder)."""
