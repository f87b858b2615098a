"""`python -m inbox_watch` runs the command line."""

from inbox_watch.cli import main

raise SystemExit(main())
