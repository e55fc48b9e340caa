"""`python -m gateway.routing check|explain|status ...`: the same as `python -m gateway routes`."""

import sys

from gateway.routing.cli import main

sys.exit(main(sys.argv[1:]))
