"""Search: analysis, embeddings and their cache, the vector and lexical indexes, fusion and snapshots."""

import logging

import bm25s  # noqa: F401  # imported first here, so the line below quiets it before any index is built

# bm25s sets its own logger to DEBUG on import: its "Building index" lines would reach every server log.
logging.getLogger("bm25s").setLevel(logging.WARNING)
