import sys

from kubeship.cli import main

sys.exit(main())
