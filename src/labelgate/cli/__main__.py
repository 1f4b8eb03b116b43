"""`python -m labelgate.cli` is the `labelgate` command."""

import sys

from labelgate.cli import main

sys.exit(main())
