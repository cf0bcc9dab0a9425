"""Services an IDE client calls beside threads: one-off commands, files, fuzzy file search."""
