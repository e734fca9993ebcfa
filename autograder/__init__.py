"""Auto-graded assignment framework: sandboxed grading of untrusted student code with pytest.

The engine knows nothing about any particular course: an assignment is a folder under
``assignments/`` (config, suites, provided files) plus reference solutions under ``solutions/``.
"""

__version__ = "0.1.0"
