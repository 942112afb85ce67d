"""The stderr filter: TensorFlow's known start-up lines are dropped, every other line reaches the
real stderr, including the last ones a process writes just before it exits."""
import subprocess
import sys

CHILD = """
import os, sys
from mmfusion.utils import quiet
assert quiet.install()
os.write(2, b"I0000 00:00:1 1 port.cc:153] oneDNN custom operations are on.\\n")
os.write(2, b"kept line\\n")
for i in range(20000):
    sys.stderr.write(f"burst {i}\\n")
sys.stderr.write("the last line, without a newline")
sys.exit(3)
"""


def test_filtered_lines_go_and_the_last_lines_arrive_before_exit():
    env = {"PATH": "/usr/bin:/bin", "TF_CPP_MIN_LOG_LEVEL": "2"}
    for _ in range(3):      # losing the tail was a race: try it more than once
        proc = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, env=env,
                              timeout=60)
        assert proc.returncode == 3, proc.stderr[-2000:]
        lines = proc.stderr.split("\n")
        assert lines[0] == "kept line" and "oneDNN" not in proc.stderr
        assert lines[1:-1] == [f"burst {i}" for i in range(20000)]
        assert lines[-1] == "the last line, without a newline"
