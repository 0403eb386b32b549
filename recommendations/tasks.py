"""Celery tasks of the recommender: thin wrappers around services (registered by name, see
``musicrec.queue``)."""
