"""Run every benchmark in this folder, one after the other, each printing its table.

    make bench            # or: .venv/bin/python benchmarks/run_all.py
"""

import subprocess
import sys
from pathlib import Path

here = Path(__file__).resolve().parent
failed = 0
for script in sorted(here.glob("bench_*.py")):
    print(f"\n=== {script.name} ===", flush=True)
    failed |= subprocess.call([sys.executable, str(script)], cwd=here.parent)
sys.exit(failed)
