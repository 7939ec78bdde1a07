"""Reading articles and storing them: files, metadata, derived copies, the pipeline, the write lock."""
