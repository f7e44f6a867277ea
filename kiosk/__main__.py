"""`python -m kiosk`: the command line (kiosk.cli.main)."""

import sys

from kiosk.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
