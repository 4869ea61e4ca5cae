"""Search: analysis, embeddings and their cache, the vector and lexical indexes, fusion and snapshots."""
