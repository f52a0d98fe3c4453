"""Helpers every app uses; it imports no Vigil app (the bottom of the layering)."""
