"""Word segmenters, one module each, named by a language's ``segmenter`` in ``data/languages.yaml``.

A module exposes ``SEGMENTER``, an object with the methods of :class:`medadapt.text.segment.Segmenter`.
"""
