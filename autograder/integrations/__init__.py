"""Other systems' formats: the Gradescope autograder (packaging and its run) and otter-grader's
results."""
