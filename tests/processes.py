"""Process helpers of the fault tests (Linux /proc): which processes run below a pid, and waiting for them to end."""
import time
from pathlib import Path

def alive(pid:int) -> bool:
    "Whether `pid` runs (a zombie, dead but not yet reaped, does not)."
    try: state = Path(f'/proc/{pid}/stat').read_text().rsplit(')', 1)[1].split()[0]
    except (OSError, IndexError): return False
    return state not in ('Z', 'X')

def children(pid:int) -> list:
    "Pids of the live direct children of `pid`."
    out = []
    for f in Path(f'/proc/{pid}/task').glob('*/children'):
        try: out += [int(x) for x in f.read_text().split()]
        except OSError: pass
    return [p for p in out if alive(p)]

def descendants(pid:int) -> set:
    "Pids of every live process below `pid`."
    out, todo = set(), [pid]
    while todo:
        kids = children(todo.pop())
        out.update(kids); todo += kids
    return out

def cmdline(pid:int) -> str:
    "The command line of `pid` ('' when it is gone)."
    try: return Path(f'/proc/{pid}/cmdline').read_bytes().replace(b'\0', b' ').decode()
    except OSError: return ''

def gone_within(pids, seconds:float) -> list:
    "The pids still running after `seconds` (at most)."
    t0 = time.monotonic()
    while time.monotonic() - t0 < seconds and any(alive(p) for p in pids): time.sleep(0.05)
    return [p for p in pids if alive(p)]
