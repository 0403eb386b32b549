"""The recommendation engine: plain numpy/scipy functions over arrays.

It knows nothing of Django, DRF or Channels (``make lint`` refuses such an import through the
import-linter contract "The engine is plain numpy", and ``tests/test_architecture.py`` checks
the same): selectors hand it arrays, services store what it returns. That keeps it fast to test
and usable from the offline evaluation without a database.
"""
