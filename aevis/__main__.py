"""``python -m aevis``: the ``aevis`` command, for an environment whose scripts are not on the PATH."""

import sys

from aevis.cli import main

sys.exit(main())
