"""Grading a whole class: the roster of an export, batch runs, the gradebook, merging shards, and
the instructor report with its charts. Built on ``autograder.grading``."""
