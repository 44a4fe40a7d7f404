"""Turning captured bytes into trustworthy text: encoding decision, mojibake repair,
pinyin-gloss removal and Traditional-mirror handling. Pure functions, no Scrapy."""
