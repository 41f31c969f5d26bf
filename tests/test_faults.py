"""Fault tests of the walk-forward (issue 12, case 7): a run killed part-way — SIGKILL or SIGTERM of the parent with
`--jobs 2` — leaves no worker running, no cache entry under a final name that does not verify, and a rerun on the
same cache finishes with the signals of an uninterrupted run. Linux only (workers are found through /proc)."""
import os, signal, subprocess, sys, time
from pathlib import Path
import pytest

from deepregime.walkforward.cache import entry_error, sidecar
from deepregime.training.train_transformer import RegimeModel
from processes import children, gone_within

ROOT = Path(__file__).resolve().parents[1]
ARGS = ['--start', '1996-01-01', '--end', '2001-12-31', '--first-test', '2000-01-01', '--epochs', '1',
        '--warm-epochs', '1', '--methods', 'buy_hold', 'hmm', 'transformer_h1', '--jobs', '2']
pytestmark = pytest.mark.skipif(not Path('/proc/self/task').is_dir(), reason='needs Linux /proc')

def env() -> dict:
    e = {**os.environ, 'MPLBACKEND': 'Agg', 'OMP_NUM_THREADS': '1', 'IN_TEST': '1'}
    if 'DEEPREGIME_DATA' not in e and (ROOT.parent/'shared'/'data').is_dir():
        e['DEEPREGIME_DATA'] = str(ROOT.parent/'shared'/'data')
    return e

def command(cache:Path, signals:Path) -> list:
    return [sys.executable, '-m', 'deepregime.walkforward', *ARGS, '--cache-dir', str(cache), '--signals', str(signals)]

def entries(cache:Path) -> list:
    "The files under a final name in the cache: entries (sidecars and temporary files left out)."
    return [p for p in cache.rglob('*') if p.is_file() and p.suffix not in ('.sha256', '.tmp')]

def start_and_kill(cache:Path, signals:Path, sig:int) -> tuple:
    "Start a run, wait until its two workers fit, send `sig` to the parent; (return code, the workers' pids)."
    proc = subprocess.Popen(command(cache, signals), env=env(), cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    workers, t0 = [], time.monotonic()
    while time.monotonic() - t0 < 60 and proc.poll() is None:
        workers = children(proc.pid)
        if len(workers) >= 2 and entries(cache): break  # two workers, and the first fits are stored
        time.sleep(0.05)
    assert proc.poll() is None and len(workers) >= 2, f'the run ended or had no workers: {proc.poll()} {workers}'
    workers = children(proc.pid)  # every worker at the moment of the kill
    os.kill(proc.pid, sig)
    code = proc.wait(30)
    return code, workers

def no_new_entries(cache:Path, seconds:float=3.) -> list:
    "Entries that appear in the cache within `seconds` after the kill: a worker still fitting writes one."
    time.sleep(0.5)
    before = set(entries(cache))
    time.sleep(seconds)
    return sorted(set(entries(cache)) - before)

def check_entries(cache:Path):
    "Every JSON entry verifies; a checkpoint verifies, or (killed before its sidecar) is a complete checkpoint."
    for p in entries(cache):
        err = entry_error(p)
        if p.suffix == '.pt' and err == 'it has no checksum file': RegimeModel.load(p)  # complete, only unverified
        else: assert err is None, f'{p}: {err}'

def test_sigkill_of_the_parent_stops_the_workers_and_a_rerun_recovers(tmp_path):
    cache = tmp_path/'cache'
    code, workers = start_and_kill(cache, tmp_path/'killed.csv', signal.SIGKILL)
    assert code == -signal.SIGKILL
    assert gone_within(workers, 5) == [], 'workers survived their parent'
    assert no_new_entries(cache) == [], 'workers kept fitting after their parent died'
    assert not (tmp_path/'killed.csv').exists()
    check_entries(cache)
    rerun = subprocess.run(command(cache, tmp_path/'rerun.csv'), env=env(), cwd=ROOT, capture_output=True, text=True,
                           timeout=120)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    fresh = subprocess.run(command(tmp_path/'fresh', tmp_path/'fresh.csv'), env=env(), cwd=ROOT,
                           capture_output=True, text=True, timeout=120)
    assert fresh.returncode == 0, fresh.stderr[-2000:]
    assert (tmp_path/'rerun.csv').read_bytes() == (tmp_path/'fresh.csv').read_bytes()
    check_entries(cache)

def test_sigterm_of_the_parent_stops_the_workers(tmp_path):
    code, workers = start_and_kill(tmp_path/'cache', tmp_path/'killed.csv', signal.SIGTERM)
    assert code == 128 + signal.SIGTERM  # the handler stopped the pool, then exited
    assert gone_within(workers, 5) == [], 'workers survived their parent'
    assert no_new_entries(tmp_path/'cache') == [], 'workers kept fitting after their parent stopped'
    check_entries(tmp_path/'cache')
