"""Where each graded cell sits in the course: its exercise, its notebook section, and the
lecture slide to revisit.

The exercise and the section come from the source notebook's markdown headings (the
contract of docs/authoring.md: `## N. Section (lectures ...)`, `## Exercise N.M — title
(P points)`, `### N.Ma — part`); the slide comes from SLIDES, one row per graded cell of
the seven notebooks. A graded cell of an instructor's own notebook that SLIDES does not
list gets the lectures its section heading names.

Used by the grading process (the ledger records each cell's exercise, and whether it was
attempted at all), by the feedback (not attempted) and by the class report
(autograder.report), which links every mistake to the slide and the section.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from autograder.judging.course_files import course_notebook
from autograder.layout import Course

#: grade_id -> the lecture slide to revisit (slide titles as the lecture texts spell them).
SLIDES = {
    # 01_convolution
    "conv_params_tests": "lecture 000, 'Why Convolution?'",
    "conv_corr2d_tests": "lecture 000, '2-D Convolution'",
    "conv_corr2d_bias_tests": "lecture 000, '2-D Convolution Layer'",
    "conv_q1_tests": "lecture 000, quiz Q1",
    "conv_kernels_tests": "lecture 000, 'Examples' (edge detection, sharpen, Gaussian blur)",
    "conv_gaussian_kernel_tests": "lecture 000, 'Gaussian Blur'",
    "conv_conv2d_true_tests": "lecture 003, 'Two-dimensional Convolution'",
    "conv_border_tests": "lecture 003, 'Equivalence of Convolution to Translation'",
    "conv_corr2d_as_matrix_tests": "lecture 003, 'Convolution as a Structured Linear Operator'",
    # 02_padding_stride
    "padding_output_size_tests": "lecture 004, 'Computing the output size'",
    "padding_output_size_total_tests": "lecture 000, 'Convolutional Layers: Stride'",
    "padding_q2_tests": "lecture 000, quiz Q2",
    "padding_fit_tests": "lecture 003, 'A Closer Look at Strides'",
    "padding_pad2d_tests": "lecture 004, 'Zero Padding'",
    "padding_same_padding_tests": "lecture 000, 'Convolutional Layers: Padding'",
    "padding_corr2d_padded_tests": "lecture 000, 'Stride' (strides of 3 and 2)",
    "padding_corr2d_dilated_tests": "lecture 001, 'Convolution operation: dilation'",
    # 03_channels
    "channels_corr2d_multi_in_tests": "lecture 000, 'Multiple Input Channels'",
    "channels_corr2d_multi_in_out_tests": "lecture 000, 'Multiple Output Channels'",
    "channels_conv1x1_tests": "lecture 003, '1x1 Convolution Layers Make Perfect Sense'",
    "channels_conv_params_tests": "lecture 003, 'Number of parameters in this layer?'",
    "channels_conv_mults_tests": "lecture 001, 'Recap: Convolution Layer' (multiplications)",
    "channels_q3_tests": "lecture 000, quiz Q3",
    "channels_q4_tests": "lecture 000, quiz Q4",
    "channels_alexnet_tests": "lecture 003, 'Case Study: AlexNet'",
    "channels_stack_tests": "lecture 003, 'The Power of Small Filters'",
    "channels_conv2d_vectorized_tests": (
        "lecture 003, 'Convolution as a Structured Linear Operator'"
    ),
    # 04_pooling
    "pooling_q5_tests": "lecture 000, quiz Q5",
    "pooling_q6_tests": "lecture 000, quiz Q6",
    "pooling_pool2d_max_tests": "lecture 000, '2-D Max Pooling'",
    "pooling_pool2d_avg_tests": "lecture 000, 'Average Pooling'",
    "pooling_pool2d_channels_tests": "lecture 000, 'Padding, Stride, and Multiple Channels'",
    "pooling_shift_tests": "lecture 000, 'Pooling' (robustness to the exact location)",
    "pooling_maxpool_grad_mask_tests": "lecture 001, 'What's the backprop rule for max pooling?'",
    "pooling_grad_avg_tests": "lecture 003, 'Q: What is the gradient of a max pooling operation?'",
    "pooling_grad_max_tests": "lecture 003, 'Q: What is the gradient of a max pooling operation?'",
    # 05_backprop
    "backprop_numerical_gradient_tests": "lecture 003, 'Basic Gradient Computation'",
    "backprop_rel_error_tests": "lecture 003, 'Basic Gradient Computation'",
    "backprop_conv2d_forward_tests": "lecture 003, 'Summary' (to summarize, the Conv Layer)",
    "backprop_conv2d_backward_db_tests": "lecture 003, 'Basic Gradients'",
    "backprop_conv2d_backward_dw_tests": "lecture 003, 'Basic Gradients'",
    "backprop_conv2d_backward_dx_tests": "lecture 003, 'Basic Gradients'",
    "backprop_q1_tests": "lecture 003, 'Transposed Convolution'",
    "backprop_q2_tests": "lecture 003, 'Transposed Convolution'",
    "backprop_maxpool2d_forward_tests": "lecture 001, 'Max Pooling'",
    "backprop_maxpool2d_backward_tests": "lecture 001, 'What's the backprop rule for max pooling?'",
    "backprop_q3_tests": "lecture 003, 'Q: What is the gradient of a max pooling operation?'",
    "backprop_avgpool2d_forward_tests": "lecture 000, 'Average Pooling'",
    "backprop_avgpool2d_backward_tests": "lecture 000, 'Average Pooling'",
    # 06_lenet
    "lenet_params_tests": "lecture 002, 'LeNet in PyTorch'",
    "lenet_init_lenet_tests": "lecture 002, 'LeNet in PyTorch'",
    "lenet_lenet_forward_tests": "lecture 002, 'LeNet in PyTorch'",
    "lenet_lenet_backward_tests": "lecture 002, 'Training a CNN'",
    "lenet_softmax_cross_entropy_tests": "lecture 002, 'Training a CNN'",
    "lenet_sgd_step_tests": "lecture 003, 'Case Study: AlexNet' (details: SGD, momentum, decay)",
    "lenet_train_epoch_tests": "lecture 002, 'Training a CNN'",
    "lenet_evaluate_tests": "lecture 002, 'Training a CNN'",
    "lenet_training_tests": "lecture 002, 'Training a CNN'",
    "lenet_rf_tests": "lecture 003, 'The Power of Small Filters' (receptive fields)",
    "lenet_alexnet_tests": "lecture 003, 'Case Study: AlexNet'",
    # 07_gpu
    "gpu_make_lenet_torch_tests": "lecture 002, 'LeNet in PyTorch'",
    "gpu_quiz_work_tests": "lecture 002, 'CNNs: Advantages' (same kernel used repeatedly)",
    "gpu_load_numpy_params_tests": "lecture 004, 'CNN in PyTorch: Conv2D'",
    "gpu_train_epoch_torch_tests": "lecture 002, 'Training a CNN'",
    "gpu_evaluate_torch_tests": "lecture 002, 'Training a CNN'",
    "gpu_trained_model_tests": "lecture 002, 'Training a CNN'",
}

HEADING = re.compile(r"^(?P<hashes>#{1,6})\s+(?P<text>.+?)\s*$", re.M)
#: "Exercise 1.2 — ...", "Exercise 1 — ..." or a part "3.4a — ...": an exercise heading.
EXERCISE = re.compile(r"^(?:Exercise\s+)?(?P<number>\d+(?:\.\d+)?[a-z]?)\s+—")
LECTURES = re.compile(r"lectures?\s+(?P<list>\d{3}(?:(?:,\s*|\s+and\s+)\d{3})*)", re.I)


@dataclass(frozen=True)
class Exercise:
    """A graded cell's place in the course.

    Attributes:
        grade_id: the graded cell.
        notebook: its notebook's name (without .ipynb).
        number: the exercise's number ("1.2", "3.4a"); "" under no exercise heading.
        title: the exercise heading, without markdown markup.
        section: the section heading it is under ("2. Two-dimensional ...").
        anchor: the id JupyterLab gives the exercise heading (its text, spaces as "-").
        points: the cell's points.
        slide: the lecture slide to revisit (SLIDES, else the section's lectures).
    """

    grade_id: str
    notebook: str
    number: str
    title: str
    section: str
    anchor: str
    points: float
    slide: str

    @property
    def label(self) -> str:
        """A short name for tables: "1.2 corr2d" style, or the grade_id."""
        return self.title or self.grade_id


def _plain(text: str) -> str:
    return re.sub(r"[`*]", "", text).strip()


def lectures_named(text: str) -> list[str]:
    """Lecture numbers a heading names: "(lectures 000, 002 and 004)" -> [000, 002, 004]."""
    found = LECTURES.search(text)
    return re.findall(r"\d{3}", found.group("list")) if found else []


def exercises(source_nb, notebook: str) -> dict[str, Exercise]:
    """grade_id -> Exercise for every graded cell of a source notebook, in notebook order."""
    out: dict[str, Exercise] = {}
    section = title = number = ""
    for cell in source_nb.cells:
        if cell.cell_type == "markdown":
            for m in HEADING.finditer(cell.source):
                text = _plain(m.group("text"))
                ex = EXERCISE.match(text)
                if ex:
                    title, number = text, ex.group("number")
                elif len(m.group("hashes")) <= 2:
                    section, title, number = text, "", ""
            continue
        meta = cell.metadata.get("nbgrader") or {}
        if cell.cell_type != "code" or not meta.get("grade"):
            continue
        gid = meta["grade_id"]
        named = lectures_named(section) or lectures_named(title)
        fallback = f"lecture {', '.join(named)}" if named else ""
        out[gid] = Exercise(
            grade_id=gid,
            notebook=notebook,
            number=number,
            title=title,
            section=section,
            anchor=(title or section).replace(" ", "-"),
            points=float(meta.get("points") or 0),
            slide=SLIDES.get(gid, fallback),
        )
    return out


def untouched(nb, released) -> set[str]:
    """grade_ids of the test cells of `nb` whose exercise cells are all exactly as in the
    `released` notebook: not attempted. A test cell's exercise cells are the solution
    cells since the previous test cell; test cells in a row share those of the first (one
    answer cell checked by two test cells, as 4.1's Q5 and Q6)."""

    def meta(cell) -> dict:
        return cell.get("metadata", {}).get("nbgrader") or {}

    stubs = {
        meta(c)["grade_id"]: c.source.strip()
        for c in released.cells
        if meta(c).get("solution") and meta(c).get("grade_id")
    }
    found, exercise, tested = set(), [], False
    for cell in nb.cells:
        m = meta(cell)
        if m.get("solution") and m.get("grade_id"):
            if tested:  # the first solution cell after a test cell starts a new exercise
                exercise, tested = [], False
            exercise.append(cell)
        elif m.get("grade") and m.get("grade_id"):
            tested = True
            if exercise and all(
                stubs.get(meta(c)["grade_id"]) == c.source.strip() for c in exercise
            ):
                found.add(m["grade_id"])
    return found


def course_exercises(course: Course, assignment: str) -> dict[str, Exercise]:
    """grade_id -> Exercise for every graded cell of an assignment's source notebooks
    (empty when the course has no source for it)."""
    out: dict[str, Exercise] = {}
    for name in course.notebooks(assignment):
        path: Path = course.source / assignment / f"{name}.ipynb"
        out.update(exercises(course_notebook(path), name))
    return out
