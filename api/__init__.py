"""kb's HTTP surface: the FastAPI app factory, its routes, and the help-center site."""
