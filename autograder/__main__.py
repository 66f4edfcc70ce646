"""`python -m autograder <verb>`: see autograder.cli."""

import sys

from autograder.cli import main

sys.exit(main())
