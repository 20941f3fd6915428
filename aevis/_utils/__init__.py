"""Plumbing every room may use: files that carry their checksum (``checked``), every cache-key
recipe (``keys``), codes and pixels kept in memory or in a file (``codes``, ``pixels``), option
checks (``validation``) and occlusion's patch geometry (``patches``). It imports nothing of aevis
but its release number and the memory budgets (:mod:`aevis.memory`), and no machine-learning
framework."""
