"""The agent desktop's pages; only the URL configurations import it."""
