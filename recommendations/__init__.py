"""Recommendations (SPEC §6): the engine (``engine/``, plain numpy), the vectors and views it is
served from (models, selectors, services, tasks) and the offline evaluation."""
