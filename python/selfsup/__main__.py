"""`python -m selfsup pretrain|fit ...` (also under torchrun): see `selfsup.cli`."""
import sys

from .cli import main

sys.exit(main())
