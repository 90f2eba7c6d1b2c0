"""The live preview: the resident site in memory and the HTTP server on 127.0.0.1."""
