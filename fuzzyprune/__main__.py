"""Run the command line: ``python -m fuzzyprune``."""

import sys

from .cli import main

sys.exit(main())
