"""Allow `python -m ccmdesk`."""

import sys

from ccmdesk.cli import main

sys.exit(main())
