import sys

from mmfusion.kaggle import main

sys.exit(main())
