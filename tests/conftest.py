pytest_plugins = ["pytester"]

# Suites of the fixture project are graded by the tests, not collected as tests themselves.
collect_ignore = ["fixtures"]
