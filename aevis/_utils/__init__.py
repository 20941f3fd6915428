"""Plumbing every room may use: files that carry their checksum (``checked``), codes and pixels
kept in memory or in a file (``codes``, ``pixels``), option checks (``validation``) and
occlusion's patch geometry (``patches``). It imports nothing of aevis but the memory budgets
(:mod:`aevis.memory`), and no machine-learning framework."""
