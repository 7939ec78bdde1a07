"""`rag serve`: the library over HTTP: an OpenAI-compatible chat endpoint, the CLI's commands as JSON routes,
and a web page for chat, briefings and the article list."""
