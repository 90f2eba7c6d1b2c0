"""Stage 1: the site's input files read, validated into typed models and resolved into regions."""
