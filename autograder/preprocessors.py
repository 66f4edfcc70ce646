"""nbgrader preprocessors of our own, one concern each."""

from __future__ import annotations

import re

from nbgrader.preprocessors import NbGraderPreprocessor
from nbgrader.utils import is_solution

#: "## Exercise 1.2 — corr2d (3 points)" → "1.2"
EXERCISE_HEADING = re.compile(r"^#{1,6}\s*Exercise\s+(\d+(?:\.\d+)*)", re.M)
STUB = "raise NotImplementedError()"


class ExerciseStub(NbGraderPreprocessor):
    """Make every code stub name its exercise.

    Runs right after ClearSolutions. The error a student sees when running an unfinished
    cell then reads `NotImplementedError: Exercise 1.2 is not done yet: ...` instead of a
    bare `NotImplementedError`, and the visible checks can point to the same number.
    """

    def preprocess(self, nb, resources):
        exercise = None
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                found = EXERCISE_HEADING.findall(cell.source)
                if found:
                    exercise = found[-1]
            elif cell.cell_type == "code" and is_solution(cell) and STUB in cell.source:
                label = f"Exercise {exercise}" if exercise else "This exercise"
                message = f"{label} is not done yet: replace this line with your code."
                cell.source = cell.source.replace(STUB, f"raise NotImplementedError({message!r})")
        return nb, resources
