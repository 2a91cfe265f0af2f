"""``python -m console``: the ``switchboard`` command (see :mod:`console.startup`)."""

from console.startup import main

raise SystemExit(main())
