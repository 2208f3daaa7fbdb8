"""Views of the console's people area, one module per section."""
