"""Date formats per language where Django's default does not suit a German-speaking organisation."""
