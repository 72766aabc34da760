"""Allow `python -m ccmdesk`; also the entry point of the frozen desktop build."""

import multiprocessing
import sys

from ccmdesk.cli import main

if __name__ == "__main__":
    # In the frozen build, the export's PDF worker processes start this same executable:
    # freeze_support hands them to their work instead of opening the app again.
    multiprocessing.freeze_support()
    sys.exit(main())
