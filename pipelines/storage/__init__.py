"""Archive storage: a small key/value interface with a local-folder and an S3 backend, and the
capture layout on top of it. No Scrapy import anywhere in this package."""
from pipelines.storage.base import ArchiveError, ArchiveStore, NotFound, open_store

__all__ = ["ArchiveError", "ArchiveStore", "NotFound", "open_store"]
