"""The text layer every stage shares: Unicode normalisation, the one letter-folding table per script, script
detection, language identification, word segmentation and n-grams per language, and keyword matching.

The rules are data (``text/data``); a language that needs its own word segmenter adds one small module to
``text/segmenters``.
"""
