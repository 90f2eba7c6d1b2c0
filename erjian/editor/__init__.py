"""Commands for the site's editors: check, its baseline and reports, verify-links, scaffolding, division import."""
