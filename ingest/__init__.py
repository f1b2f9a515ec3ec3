"""Import: read incident files, validate each row, and say what was kept and what was refused."""
