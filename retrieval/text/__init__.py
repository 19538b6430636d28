"""Pure Python text analysis, no Django: tokens and stems, sentences, numbers, passages, facts."""
