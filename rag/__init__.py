"""rag: question answering and briefings over news articles, with verified citations."""
