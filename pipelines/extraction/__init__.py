"""Article text and metadata from a decoded page. Pure functions, no Scrapy."""
from pipelines.extraction.document import EXTRACTOR_NAME, EXTRACTOR_VERSION, extract_document

__all__ = ["EXTRACTOR_NAME", "EXTRACTOR_VERSION", "extract_document"]
