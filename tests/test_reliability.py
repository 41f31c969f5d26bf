"""Issue 12 attacked from the command line: every case run as a user runs it (`python -m …` in a subprocess, on a
damaged copy of the data where the case needs one), checking the one clear error, the file left behind, or both.

The chapters test each case at the library level (00a_utils, 00_data, 04_training, 05_backtest, 06_walkforward);
this file adds the runs of the real commands: a training killed part-way, a walk-forward piped into `head`, outputs that are devices
or symlinks, numbers and dates checked at parse time, outputs checked before any work, damaged data files.
Kept small (short date ranges, 2 epochs, two methods): about two minutes."""
import os, shutil, signal, stat, subprocess, sys, tempfile, threading, time
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DATA = Path(os.environ.get('DEEPREGIME_DATA') or ROOT.parent/'shared'/'data')
pytestmark = pytest.mark.skipif(not (DATA/'SPY.csv').is_file(), reason='needs the data snapshot (DEEPREGIME_DATA)')
TRAIN, INFER = 'deepregime.training.train_transformer', 'deepregime.inference'
BACKTEST, WALK = 'deepregime.backtest.backtest_leverage', 'deepregime.walkforward'
TRAIN_ARGS = ['--start', '2010-01-01', '--end', '2014-12-31']
WF_ARGS = ['--start', '1996-01-01', '--end', '2001-12-31', '--first-test', '2000-01-01',
           '--methods', 'buy_hold', 'persistence', '--no-cache', '--jobs', '1']
BT_ARGS = ['--start', '2014-01-01', '--end', '2016-12-31', '--split', '2016-01-01']  # test year 2016
NOWHERE = '/nonexistent/deepregime-data'  # a data folder that is not there: any work would fail on it
IS_ROOT = hasattr(os, 'geteuid') and os.geteuid() == 0
CWD = tempfile.mkdtemp(prefix='deepregime-reliability-')  # not the repo: `python -m` imports the installed package

def env(**kw) -> dict:
    e = {**os.environ, 'MPLBACKEND': 'Agg', 'OMP_NUM_THREADS': '1', 'IN_TEST': '1', 'DEEPREGIME_DATA': str(DATA)}
    return {**e, **kw}

def run(module:str, *args, timeout=120, cwd=None, **kw) -> subprocess.CompletedProcess:
    "`python -m module args` (or the `deepregime` script when `module` is 'deepregime')."
    cmd = [str(BIN/'deepregime')] if module == 'deepregime' else [sys.executable, '-m', module]
    return subprocess.run([*cmd, *map(str, args)], capture_output=True, text=True, timeout=timeout, env=env(**kw),
                          cwd=cwd or CWD)

def one_error(r, code:int=1) -> str:
    "The single `error:` line of a failed command (argparse errors: its last line), checked to be the only trouble."
    assert r.returncode == code, (r.returncode, r.stderr[-1500:])
    assert 'Traceback' not in r.stderr, r.stderr[-1500:]
    lines = r.stderr.strip().splitlines()
    if code == 1: assert len(lines) == 1, r.stderr[-1500:]
    return lines[-1]

def damaged(folder:Path, name:str=None, edit=None) -> Path:
    "A copy of SPY, VIX, DTB3 in `folder`, the lines of `name`.csv changed by `edit(lines) -> lines`."
    folder.mkdir(parents=True, exist_ok=True)
    for f in ('SPY', 'VIX', 'DTB3'):
        shutil.copy(DATA/f'{f}.csv', folder/f'{f}.csv'); os.chmod(folder/f'{f}.csv', 0o644)
    if name:
        p = folder/f'{name}.csv'
        p.write_text('\n'.join(edit(p.read_text().splitlines())) + '\n')
    return folder

def put(day:str, col:int, f):
    "An edit: column `col` of the line of `day` replaced by f(its value)."
    def edit(lines):
        return [','.join(str(f(v)) if k == col else v for k, v in enumerate(l.split(','))) if l.startswith(day)
                else l for l in lines]
    return edit

def drop(lo:str, hi:str):
    "An edit: the lines dated lo … hi removed."
    return lambda lines: [l for l in lines if not lo <= l[:10] <= hi]

def char_device(path:Path) -> Path:
    "A character-device copy of /dev/null at `path` (needs root)."
    try: os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except PermissionError: pytest.skip('mknod needs root (CAP_MKNOD)')
    return path

def is_device(path:Path) -> bool: return stat.S_ISCHR(os.lstat(path).st_mode)

def link_to(link:Path, target:Path, old:str='old content') -> Path:
    "A symlink `link` to a file `target` (created holding `old`)."
    target.parent.mkdir(parents=True, exist_ok=True); target.write_text(old); link.symlink_to(target)
    return link

def dead_pid() -> int:
    "The pid of a process that has ended."
    p = subprocess.run([sys.executable, '-c', 'import os; print(os.getpid())'], capture_output=True, text=True)
    return int(p.stdout)

# ------------------------------------------------------------------ fixtures: one trained model, one prediction file

@pytest.fixture(scope='module')
def trained(tmp_path_factory) -> Path:
    "A complete training run (2 epochs) whose `--out` is a symlink: the checkpoint lands in the link's target."
    d = tmp_path_factory.mktemp('trained')
    link = link_to(d/'link.pt', d/'real'/'model.pt')
    r = run(TRAIN, *TRAIN_ARGS, '--epochs', 2, '--out', link)
    assert r.returncode == 0, r.stderr[-2000:]
    assert link.is_symlink() and link.resolve() == d/'real'/'model.pt'
    return d/'real'/'model.pt'

@pytest.fixture(scope='module')
def pred(tmp_path_factory) -> Path:
    "Stored predictions (regime switching every 50 days) on every SPY day 2005-2024, for backtests without training."
    import numpy as np, pandas as pd
    days = pd.read_csv(DATA/'SPY.csv', usecols=['Date'])['Date']
    days = pd.DatetimeIndex(days[(days >= '2005-01-01') & (days <= '2024-12-31')], name='date')
    r = (np.arange(len(days))//50) % 2
    path = tmp_path_factory.mktemp('pred')/'pred.csv'
    pd.DataFrame({'regime': r, 'p_0': 1. - r, 'p_1': r*1.}, index=days).to_csv(path)
    return path

# ------------------------------------------------------------------ case 10 + the fault bullet: kill a training

def test_killed_training_leaves_nothing_and_reruns_give_identical_checkpoints(tmp_path, trained):
    "SIGKILL part-way: no file at --out, nothing partial; rerun completes (stale .tmp removed, umask kept), same bytes."
    from deepregime.training.train_transformer import load_checkpoint
    out = tmp_path/'run'/'model.pt'
    out.parent.mkdir()  # a file named on the command line goes into a folder that exists
    proc = subprocess.Popen([sys.executable, '-m', TRAIN, *TRAIN_ARGS, '--epochs', '40', '--out', str(out), '-v'],
                            env=env(), cwd=CWD, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lines = []
    threading.Thread(target=lambda: lines.extend(proc.stderr), daemon=True).start()
    t0 = time.monotonic()
    while not any(' fitted on ' in l for l in lines) and proc.poll() is None and time.monotonic() - t0 < 90:
        time.sleep(0.05)  # the labeller is fitted: the network's epochs start now
    time.sleep(2)
    assert proc.poll() is None, f'training ended before the kill: {proc.returncode} {"".join(lines)[-1500:]}'
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait(30) == -signal.SIGKILL
    assert not out.exists()
    assert [p.name for p in out.parent.glob('*') if not p.name.endswith('.tmp')] == []  # nothing under a final name
    out.parent.mkdir(exist_ok=True)
    stale = out.parent/f'.model.pt.{proc.pid}.x1y2z3.tmp'  # as if killed while saving
    stale.write_bytes(b'half a checkpoint')
    r = subprocess.run([sys.executable, '-m', TRAIN, *TRAIN_ARGS, '--epochs', '2', '--out', str(out)], env=env(),
                       cwd=CWD, capture_output=True, text=True, timeout=120, preexec_fn=lambda: os.umask(0o077))
    assert r.returncode == 0, r.stderr[-2000:]
    assert sorted(p.name for p in out.parent.iterdir()) == ['model.pt']  # the stale temporary file is gone
    assert stat.S_IMODE(out.stat().st_mode) == 0o600  # the umask decides the mode
    assert load_checkpoint(out).train_config.epochs == 2
    assert out.read_bytes() == trained.read_bytes()  # another complete run, other folder and name: the same bytes

# ------------------------------------------------------------------ case 10: a closed pipe keeps the signals file

@pytest.fixture(scope='module')
def wf_outputs(tmp_path_factory) -> dict:
    "One small walk-forward writing --signals through a symlink and --json into a character device."
    d = tmp_path_factory.mktemp('wf')
    link = link_to(d/'signals.csv', d/'real'/'signals.csv')
    dev = char_device(d/'null') if IS_ROOT else None
    r = run(WALK, *WF_ARGS, '--signals', link, *(['--json', dev] if dev else []))
    assert r.returncode == 0, r.stderr[-2000:]
    return {'link': link, 'target': d/'real'/'signals.csv', 'device': dev}

@pytest.mark.parametrize('reader', ['head -1', 'true'])
def test_walkforward_into_a_closed_pipe_still_writes_the_signals(tmp_path, reader, wf_outputs):
    "`… --signals S | head -1` (and `| true`, gone before the first line): exit 0, no traceback, S complete."
    sig = tmp_path/'S.csv'
    cmd = ' '.join([sys.executable, '-m', WALK, *WF_ARGS, '--signals', str(sig)])
    r = subprocess.run(['bash', '-o', 'pipefail', '-c', f'{cmd} | {reader}'], capture_output=True, text=True,
                       env=env(), cwd=CWD, timeout=120)
    assert (r.returncode, r.stderr) == (0, ''), r.stderr[-2000:]
    assert sig.read_bytes() == wf_outputs['target'].read_bytes()

# ------------------------------------------------------------------ case 1: devices and symlinks stay what they are

def test_walkforward_writes_through_a_symlink_and_into_a_device(wf_outputs):
    assert wf_outputs['link'].is_symlink()
    assert wf_outputs['target'].read_text().startswith('date,method,fold,regime,p_stress,exposure\n')
    if wf_outputs['device'] is None: pytest.skip('a device node needs root')
    assert is_device(wf_outputs['device'])

@pytest.mark.skipif(not IS_ROOT, reason='mknod needs root')
def test_training_writes_into_a_device(tmp_path):
    dev = char_device(tmp_path/'null')
    r = run(TRAIN, *TRAIN_ARGS, '--epochs', 1, '--out', dev)
    assert r.returncode == 0, r.stderr[-2000:]
    assert is_device(dev) and sorted(p.name for p in tmp_path.iterdir()) == ['null']

def test_training_writes_through_a_symlink(trained):
    assert trained.parent.parent.joinpath('link.pt').is_symlink() and trained.stat().st_size > 10_000

def test_backtest_writes_through_a_symlink_and_into_a_device(tmp_path, pred):
    link = link_to(tmp_path/'out.json', tmp_path/'real'/'summary.json')
    dev = char_device(tmp_path/'null') if IS_ROOT else tmp_path/'pred_out.csv'
    r = run(BACKTEST, '--pred', pred, *BT_ARGS, '--json', link, '--save-pred', dev)
    assert r.returncode == 0, r.stderr[-2000:]
    assert link.is_symlink() and '"protocol": "honest"' in (tmp_path/'real'/'summary.json').read_text()
    if IS_ROOT: assert is_device(dev)

def test_inference_writes_through_a_symlink(tmp_path, trained):
    link = link_to(tmp_path/'pred.csv', tmp_path/'real'/'pred.csv')
    r = run(INFER, '--checkpoint', trained, '--end', '2014-12-31', '--last', 3, '--out', link)
    assert r.returncode == 0, r.stderr[-2000:]
    assert link.is_symlink()
    assert (tmp_path/'real'/'pred.csv').read_text().splitlines()[0] == 'date,regime,p_0,p_1'

# ------------------------------------------------------------------ case 9: numbers and names checked at parse time

@pytest.mark.parametrize('module,args,msg', [
    (BACKTEST, ['--spread-bps', 'inf'], "--spread-bps: must be a finite number, got 'inf'"),
    (BACKTEST, ['--cost-bps', '1e6'], "--cost-bps: must be a number >= 0 and <= 1000, got '1e6'"),
    (BACKTEST, ['--epochs', '1e20'], "--epochs: expected an integer >= 1 and <= 10000, got '1e20'"),
    (TRAIN, ['--epochs', str(10**20)], f"--epochs: must be an integer >= 1 and <= 100000, got '{10**20}'"),
    (WALK, ['--epochs', '1e20'], "--epochs: expected an integer >= 1 and <= 100000, got '1e20'"),
], ids=['spread-inf', 'cost-1e6', 'backtest-epochs-1e20', 'train-epochs-10**20', 'walkforward-epochs-1e20'])
def test_bad_numbers_are_argparse_errors(module, args, msg):
    # (--start garbage on every command: tests/test_cli.py::test_bad_dates_are_argparse_errors)
    assert one_error(run(module, *args, '--data-dir', NOWHERE), code=2).endswith(f'error: argument {msg}')

def test_a_search_without_searchable_methods_fails_before_the_data_are_read():
    line = one_error(run(WALK, '--methods', 'vol_target', '--search-trials', '5', '--data-dir', NOWHERE))
    assert line.startswith('error: --search-trials: none of the methods run has a search space'), line

def test_a_forecast_search_by_sharpe_fails_before_the_data_are_read():
    line = one_error(run('deepregime.forecasting', '--search-trials', '5', '--search-metric', 'sharpe', '--data-dir', NOWHERE))
    assert line.startswith('error: --search-metric sharpe: a forecast is ranked by its log-loss'), line

def test_too_few_training_years_for_the_inner_folds_is_one_error_before_any_fit(tmp_path):
    r = run(WALK, '--start', '2000-01-03', '--end', '2005-12-30', '--first-test', '2004-01-01', '--methods', 'hmm',
            '--search-trials', '3', '--inner-folds', '3', '--cache-dir', tmp_path/'cache', '--jobs', '1')
    line = one_error(r)
    assert line.startswith('error: fold 0: its training rows (2000-01-03') and 'cannot hold 3 inner validation years' in line, line
    assert not (tmp_path/'cache'/'hmm').exists()  # nothing was fitted

def test_a_bad_method_name_fails_before_the_data_are_read():
    line = one_error(run(WALK, '--methods', 'transformer_h01', '--data-dir', NOWHERE))
    assert line.startswith("error: bad Transformer method 'transformer_h01'"), line

@pytest.mark.parametrize('rate', ['500', '-50'])
def test_an_impossible_tbill_rate_is_one_error(tmp_path, pred, rate):
    data = damaged(tmp_path/'data', 'DTB3', put('2016-06-15', 1, lambda v: rate))
    line = one_error(run(BACKTEST, '--pred', pred, *BT_ARGS, '--data-dir', data))
    assert line.startswith('error: DTB3: ') and '2016-06-15' in line, line

# ------------------------------------------------------------------ cases 2, 3, 10: damaged data, one error, its dates

@pytest.mark.parametrize('name,edit,msg', [
    ('SPY', put('2016-06-15', 5, lambda v: float(v)*1000), 'error: SPY: implausible prices: '),
    ('SPY', put('2016-06-15', 6, lambda v: '-100'), 'error: SPY: negative volume on 1 dates, first 2016-06-15'),
    ('VIX', drop('2016-01-01', '2016-06-30'), 'error: VIX: no value on 125 SPY trading days between 2014-01-01 and '
                                              '2016-12-31, first 2016-01-04'),
    ('SPY', drop('2016-01-01', '2016-09-30'), 'error: SPY: no data on the 196 weekdays between 2015-12-31 and '
                                              '2016-10-03'),
], ids=['adj-close-x1000', 'negative-volume', 'vix-six-months-missing', 'spy-nine-month-gap'])
def test_damaged_data_is_one_error_naming_the_dates(tmp_path, pred, name, edit, msg):
    line = one_error(run(BACKTEST, '--pred', pred, *BT_ARGS, '--data-dir', damaged(tmp_path/'data', name, edit)))
    assert line.startswith(msg), line

def test_vix_ending_early_is_an_error_or_a_warning_saying_where_the_data_end(tmp_path, trained):
    data = damaged(tmp_path/'data', 'VIX', lambda l: [x for x in l if x[:10] <= '2020-06-30' or x.startswith('Date')])
    r = run(INFER, '--checkpoint', trained, '--data-dir', data, '--last', 2)  # the end left open: a warning
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stderr.startswith('WARNING deepregime.data: market data end on 2020-06-30, before SPY'), r.stderr
    assert 'because VIX has no value after 2020-06-30' in r.stderr
    assert r.stdout.strip().splitlines()[-1].startswith('2020-06-30'), r.stdout
    line = one_error(run(INFER, '--checkpoint', trained, '--data-dir', data, '--end', '2024-12-31'))
    assert line.startswith('error: end 2024-12-31 is not covered: the data end on 2020-06-30'), line

# ------------------------------------------------------------------ case 4: a named data folder never falls back

@pytest.fixture(scope='module')
def planted_cache(tmp_path_factory) -> Path:
    "A complete parquet cache that a wrong --data-dir must not reach."
    from deepregime.data import load_series
    c = tmp_path_factory.mktemp('cache')
    for n in ('SPY', 'VIX'): load_series(n, data_dir=DATA).to_parquet(c/f'{n}.parquet')
    load_series('DTB3', data_dir=DATA).to_frame().to_parquet(c/'DTB3.parquet')
    return c

@pytest.mark.parametrize('kind', ['missing', 'without files'])
def test_a_named_data_folder_must_exist_and_hold_the_files(tmp_path, pred, planted_cache, kind):
    folder = tmp_path/'mispelled'
    if kind == 'without files': folder.mkdir()
    r = run(BACKTEST, '--pred', pred, *BT_ARGS, '--data-dir', folder, DEEPREGIME_CACHE=str(planted_cache))
    want = f'no folder {folder} (data_dir)' if kind == 'missing' else f'no SPY.csv in {folder} (data_dir)'
    rest = '' if kind == 'missing' else '; a named data folder must hold every file (it is not completed from the cache'
    assert one_error(r).startswith(f'error: SPY: {want}{rest}')

# ------------------------------------------------------------------ case 8: a non-finite checkpoint is refused

@pytest.mark.parametrize('part,msg', [('weights', "non-finite weights (NaN or inf) in ['head.weight']"),
                                      ('scaler', 'scaler statistics must be finite with std > 0')])
def test_inference_refuses_a_non_finite_checkpoint(tmp_path, trained, part, msg):
    import torch
    ck = torch.load(trained, map_location='cpu', weights_only=True)
    if part == 'weights': ck['state_dict']['head.weight'].view(-1)[0] = float('nan')
    else: ck['scaler']['std'][2] = float('inf')
    torch.save(ck, tmp_path/'bad.pt')
    line = one_error(run(INFER, '--checkpoint', tmp_path/'bad.pt', '--data-dir', NOWHERE))
    assert line.startswith(f"error: {tmp_path/'bad.pt'}: {msg}"), line

# ------------------------------------------------------------------ case 5: every output checked before any work

def test_a_cache_dir_that_is_a_file_fails_before_work(tmp_path):
    (tmp_path/'file').write_text('not a folder')
    line = one_error(run(WALK, '--cache-dir', tmp_path/'file', '--data-dir', NOWHERE))
    assert line == f"error: --cache-dir: {tmp_path/'file'} is a file, not a folder", line

@pytest.mark.skipif(IS_ROOT, reason='root writes into read-only folders: nothing to check')
@pytest.mark.parametrize('module,flag', [(TRAIN, '--out'), (BACKTEST, '--json'), (WALK, '--json')])
def test_an_output_in_a_read_only_folder_fails_before_work(tmp_path, module, flag):
    ro = tmp_path/'ro'; ro.mkdir(); os.chmod(ro, 0o555)
    line = one_error(run(module, flag, ro/'x', '--data-dir', NOWHERE))
    assert line == f"error: {flag}: cannot write {ro/'x'}: {ro} is not writable", line

@pytest.mark.parametrize('module,flag', [
    (TRAIN, '--out'), (BACKTEST, '--json'), (BACKTEST, '--save-pred'), (INFER, '--out'),
    (BACKTEST, '--plots'), (WALK, '--json'), (WALK, '--signals'), (WALK, '--plots'), ('deepregime', '--out')])
def test_an_empty_output_name_fails_before_work(module, flag, trained):
    args = ['data'] if module == 'deepregime' else ['--checkpoint', trained] if module == INFER else []
    line = one_error(run(module, *args, flag, '', '--data-dir', NOWHERE))
    assert line.startswith(f'error: {flag}: empty'), line
