"""Making an assignment: stubs from the solution, variants (mutants and alternatives), the
verification of the suites, the student handout, the build of both zips, and the demo."""
