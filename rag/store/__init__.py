"""Where articles live: SQLite catalog with FTS5, Chroma vectors, embeddings, chunking, hybrid search, doctor."""
