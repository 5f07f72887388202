"""`python -m pretense_dev` is the console script."""

from __future__ import annotations

from pretense_dev.entry import main

raise SystemExit(main())
