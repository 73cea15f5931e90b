"""gongkai (公开): lifecycle pipeline for government official documents.

Kept import-light on purpose: `gongkai extract` must not pay for Prefect.
"""

__version__ = "0.1.0"
