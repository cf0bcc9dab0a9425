"""Apps (ChatGPT connectors) for a user signed in with ChatGPT."""
