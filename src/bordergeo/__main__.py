"""Allow ``python -m bordergeo``."""

import sys

from bordergeo.cli import main

sys.exit(main())
