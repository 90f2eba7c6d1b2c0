"""Stage 4: the build: which units to render, and the output folder it publishes into."""
