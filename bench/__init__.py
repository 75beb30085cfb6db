"""Glassboard's benchmark: ``python -m bench``.

Each figure is printed next to the bare limit of the same machinery measured in the same
run (a hello app on the same server, raw aiokafka, raw COPY), so a number reads as "how
much of what this box can do do we use", not as an absolute that means nothing elsewhere.
"""
