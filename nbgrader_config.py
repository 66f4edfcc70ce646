"""nbgrader configuration for the course. The repo root is nbgrader's course root.

Each setting below answers something recorded in docs/design.md about stock nbgrader 0.9.6.
"""

c = get_config()  # noqa: F821 (injected by traitlets when nbgrader loads this file)

c.CourseDirectory.course_id = "cnn-course"
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"
# Instructor-side files never travel to students: nbgrader copies every non-notebook file
# of source/<assignment>/ into release/<assignment>/.
c.CourseDirectory.ignore = [
    ".ipynb_checkpoints",
    "*.pyc",
    "__pycache__",
    "feedback",
    "*.py",
    "*.md",
]

# Stubs that say which exercise they belong to (see autograder.preprocessors.ExerciseStub).
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
c.GenerateAssignment.preprocessors = [
    "nbgrader.preprocessors.IncludeHeaderFooter",
    "nbgrader.preprocessors.InstantiateTests",
    "nbgrader.preprocessors.LockCells",
    "nbgrader.preprocessors.ClearSolutions",
    "autograder.preprocessors.ExerciseStub",
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.CheckCellMetadata",
    "nbgrader.preprocessors.ComputeChecksums",
    "nbgrader.preprocessors.SaveCells",
    "nbgrader.preprocessors.ClearHiddenTests",
    "nbgrader.preprocessors.ClearMarkScheme",
    "nbgrader.preprocessors.ComputeChecksums",
    "nbgrader.preprocessors.CheckCellMetadata",
]

# A student who deletes a test cell, or strips its metadata, must score 0 on it rather
# than fall into manual grading with a score of None.
c.OverwriteCells.add_missing_cells = True

# Harmless stderr (library warnings) must not cost points: nbgrader counts any stderr in a
# graded cell as a failure unless filtered here.
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = r"\w*Warning: "

# Hidden tests stay out of the feedback students get back.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "nbgrader.preprocessors.ClearHiddenTests",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]

c.Execute.timeout = 120
c.Execute.interrupt_on_timeout = True
