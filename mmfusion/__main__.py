from mmfusion.cli import main

raise SystemExit(main())
