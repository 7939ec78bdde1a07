"""The `rag` command line, one module per group of commands; rag.cli assembles them."""
