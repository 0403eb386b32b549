"""Recommendations (SPEC §6): the engine, predictors, ensemble and ranking; built next.

Only ``engine/`` exists so far, so that its rule holds from its first module: see there.
"""
