# Lets `pytest solutions/<lab>/hidden` run a lab's hidden checks in-process against
# the solution notebook (or --submission PATH). Batch grading does not use this file.
from autograder.scoring.devmode import probes, pytest_addoption  # noqa: F401
