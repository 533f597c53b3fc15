from lionlora.cli import main

raise SystemExit(main())
