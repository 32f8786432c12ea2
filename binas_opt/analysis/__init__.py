"""Reading a solution and an estimator: per-decision explanations, aggregation of contributions,
space restriction, and plots (matplotlib is imported only by :mod:`.plotting`)."""
