"""Running untrusted student code in a worker process: the grader's side of that process
(``worker_process.Worker``: limits, isolation, the call protocol) and the leased unprivileged uids
it runs as. Linux-only; built on ``autograder.suite`` (the worker's main loop is
``autograder.suite.runtime``)."""
