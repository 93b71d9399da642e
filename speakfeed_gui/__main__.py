"""`python -m speakfeed_gui` runs the CLI."""

from speakfeed_gui.cli import main

raise SystemExit(main())
