#!/usr/bin/env python3
"""Re-create results/runtime_buffers.csv from all logs in results/logs/runtime (first line of each log = command)."""
import glob, os, subprocess, sys
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
csvp = os.path.join(ROOT, "results", "runtime_buffers.csv")
if os.path.exists(csvp):
    os.remove(csvp)
logs = sorted(glob.glob(os.path.join(ROOT, "results", "logs", "runtime", "*.log")), key=os.path.getmtime)
for log in logs:
    cmd = open(log).readline()[2:].split()
    a = {cmd[i]: cmd[i + 1] for i in range(len(cmd) - 1) if cmd[i].startswith("-")}
    extra = " ".join(cmd[cmd.index("-v") + 1:]) if "-v" in cmd else ""
    shape = os.path.basename(log).split("__")[0]
    txt = open(log, errors="replace").read()
    ok = "sched_reserve:" in txt and "compute buffer size" in txt and "error: unable" not in txt
    subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "parse_runtime.py"), shape, a["-m"], a["-c"],
                    a.get("-fa", "default"), a["-ctk"], a["-ctv"], "0" if ok else "1", log, extra], check=True)
print(len(logs), "logs")
