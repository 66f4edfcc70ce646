"""`python -m autograder <verb>`: see autograder.cli."""

import sys

from autograder.cli import main

# Guarded: Dask starts its worker processes by spawning, and a spawned process imports
# the main module again (as __mp_main__); it must not run the command a second time.
if __name__ == "__main__":
    sys.exit(main())
