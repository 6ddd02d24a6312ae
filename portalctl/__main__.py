"""`python -m portalctl`: run the client without installing it."""

from portalctl.cli import main

raise SystemExit(main())
