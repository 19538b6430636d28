"""Change impact: change statements, fact matching (shared with contradictions), assessment, contradictions."""
