"""Search: the query and its filters (kb's servable rule), keyword, semantic, fusion."""
