# The verbs people type. Every target that needs the virtual environment creates it first,
# so each README command works on a fresh clone exactly as written.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: setup sandbox-tool test lint bench release lab instructor demo register collect grade feedback export status report

setup: $(STAMP) sandbox-tool

# Sandboxed grading needs bubblewrap (docs/grading-sandbox.md). Installed here when it is
# missing and we are root with apt-get; otherwise the one command to run is printed and
# set-up goes on (grading then says loudly that it is not sandboxed; the sandbox tests skip).
APT_GET ?= apt-get
sandbox-tool:
	@command -v bwrap >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v $(APT_GET) >/dev/null 2>&1; then \
	    echo "Installing bubblewrap for sandboxed grading ($(APT_GET) install bubblewrap)"; \
	    $(APT_GET) install -y -qq bubblewrap >/dev/null 2>&1 \
	      || { $(APT_GET) update -qq >/dev/null 2>&1 && $(APT_GET) install -y -qq bubblewrap >/dev/null 2>&1; } \
	      || echo "Could not install bubblewrap; run: apt-get install bubblewrap"; \
	  else \
	    echo "Sandboxed grading needs bubblewrap, which is missing. Install it with:"; \
	    echo "    sudo apt-get install bubblewrap"; \
	  fi; }

# Re-install when the dependency list or the pins change.
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

test: $(STAMP) sandbox-tool
	$(PY) -m pytest -q -n auto

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

bench: $(STAMP)
	$(PY) -m solutions.bench
	$(PY) -m autograder.nbtiming

# Regenerate the student notebooks from source/ (commit the result; CI fails on drift).
release: $(STAMP)
	$(PY) -m autograder.release

# JupyterLab for students: release/, with the student tools only (Validate). The project-
# local Jupyter config in .jupyter/ turns off the instructor plugins (create assignment,
# formgrader) and the exchange plugins (assignment and course list: this course sets up no
# exchange); the user's own Jupyter config is left alone.
LAB_DIR   ?= release
LAB_ARGS  ?=
AS_ROOT   := $(if $(filter 0,$(shell id -u)),--allow-root)
lab: $(STAMP)
	JUPYTER_CONFIG_PATH="$(CURDIR)/.jupyter/student$(if $(JUPYTER_CONFIG_PATH),:$(JUPYTER_CONFIG_PATH))" \
	  $(VENV)/bin/jupyter lab $(AS_ROOT) --ServerApp.root_dir="$(LAB_DIR)" $(LAB_ARGS)

# JupyterLab for instructors: the course root, with formgrader and create assignment. The
# venv's bin goes first on PATH, since nbgrader runs `alembic` to create the gradebook.
instructor: $(STAMP)
	PATH="$(abspath $(VENV))/bin:$$PATH" \
	JUPYTER_CONFIG_PATH="$(CURDIR)/.jupyter/instructor$(if $(JUPYTER_CONFIG_PATH),:$(JUPYTER_CONFIG_PATH))" \
	  $(VENV)/bin/jupyter lab $(AS_ROOT) --ServerApp.root_dir="$(CURDIR)" $(LAB_ARGS)

# The main job: a sample class (perfect, blank, one misconception each, a crash, an
# endless loop, a broken file, a tamperer, classmates who share mistakes, two near-copies)
# graded end to end in the sandbox; prints the score table, where the feedback and CSV
# are, the class report's path and the class's top mistakes. Compared with the goldens.
demo: $(STAMP) sandbox-tool
	$(PY) -m autograder demo

# The instructor's grading steps on this course root (python -m autograder VERB --help).
#   make collect FROM=canvas.zip ASSIGNMENT=01_convolution   (or FROM=<folder tree>)
register: $(STAMP)
	$(PY) -m autograder release

collect: $(STAMP)
	$(PY) -m autograder collect "$(FROM)" $(if $(ASSIGNMENT),--assignment $(ASSIGNMENT))

grade: $(STAMP)
	$(PY) -m autograder grade $(if $(WORKERS),--workers $(WORKERS))

feedback: $(STAMP)
	$(PY) -m autograder feedback

export: $(STAMP)
	$(PY) -m autograder export

status: $(STAMP)
	$(PY) -m autograder status

report: $(STAMP)
	$(PY) -m autograder report
