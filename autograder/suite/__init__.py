"""What a handout ships, and what every suite runs on: the pytest plugin's markers and fixtures,
the student proxies with the in-process runtime (``LocalStudent``), the codec, the checks, the
assignment description and the records a test run writes.

Portable (no Linux-only module, no libc call) and self-contained: nothing here imports any other
part of the engine, so a student's ``pytest`` runs on Linux, macOS and Windows alike.
"""
