"""`python -m agent`: the `interviewer` command."""

from agent.cli import main

raise SystemExit(main())
