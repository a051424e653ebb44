"""Demo data: a realistic sample class for the labs (``python -m autograder.demo.sample_class``)."""
