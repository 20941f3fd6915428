#!/usr/bin/env python3
"""Build the aevis gallery: ``python generate.py --help`` lists the options."""

import sys

from aevis.cli import main

if __name__ == "__main__":
    sys.exit(main())
