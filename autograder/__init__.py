"""Autograded recurrent-network labs.

The package follows the life of a lab: ``authoring`` (solution notebooks and lab
configuration) -> ``release`` (student notebooks via nbgrader's preprocessors) ->
``intake`` (submission layouts) -> ``execution`` (sandboxed runs of student code) ->
``scoring`` (probes, trusted checks, rubrics) -> ``gradebook`` (SQLite) -> ``reports``.
"""

__version__ = "0.1.0"
