"""Settings for pages fetched through a browser (scrapy-playwright). Documented in README.md."""
