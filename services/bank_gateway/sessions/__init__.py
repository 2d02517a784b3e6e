"""Whether a session the gateway issued still stands: for its own requests and for the
services that take its tokens (shared/sessions.py)."""
