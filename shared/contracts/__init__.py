"""Pydantic models exchanged between services — the only coupling they have."""
