"""Chat models: backends, the local llama.cpp server, prompts, packaged model files."""
