from aria_tui.cli import main

raise SystemExit(main())
