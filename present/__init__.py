"""Presentation helpers: maps and assets for the Streamlit pages."""
