"""Running the services: locally (``local.py``, used by ``make run`` and the e2e tests)."""
