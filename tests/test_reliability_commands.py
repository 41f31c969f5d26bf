"""Issue 18 attacked from the command line: `forecast`, `allocate` and `now` (and the older commands where a defect
was shared), run as a careless or hostile user runs them, each case a test that failed before its fix.

Helpers come from tests/test_reliability.py (issue 12's attacks on the older commands). Kept short: the runs that get
past the checks use one or two quick methods and a few years; about two minutes in all."""
import json, os, signal, subprocess, sys, time
from pathlib import Path
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_reliability import (BACKTEST, CWD, DATA, INFER, IS_ROOT, NOWHERE, TRAIN, WALK, damaged, env, one_error, run,
                              trained)  # noqa: F401 (a fixture)

pytestmark = pytest.mark.skipif(not (DATA/'SPY.csv').is_file(), reason='needs the data snapshot (DEEPREGIME_DATA)')
FORECAST, ALLOCATE = 'deepregime.forecasting', 'deepregime.allocation'
ALLOC_FILES = ('SPY', 'VIX', 'DTB3', 'TLT', 'GLD')

def copy_with(folder:Path, names, name:str|None=None, edit=None) -> Path:
    "`damaged` for any set of files: copies of `names` in `folder`, the lines of `name`.csv changed by `edit`."
    import shutil
    folder.mkdir(parents=True, exist_ok=True)
    for f in names: shutil.copy(DATA/f'{f}.csv', folder/f'{f}.csv'); os.chmod(folder/f'{f}.csv', 0o644)
    if name:
        p = folder/f'{name}.csv'
        p.write_text('\n'.join(edit(p.read_text().splitlines())) + '\n')
    return folder

def times(days, factor:float):
    "An edit: every price column (Open … Adj Close, not Volume) of the lines dated `days` multiplied by `factor`."
    def edit(lines):
        cols = lines[0].split(',')
        px = {k for k, c in enumerate(cols) if c in ('Open', 'High', 'Low', 'Close', 'Adj Close')}
        return [','.join(str(float(v)*factor) if k in px else v for k, v in enumerate(l.split(',')))
                if l[:10] in days else l for l in lines]
    return edit

# ------------------------------------------------------------------ defect 2: a bad print that lasts two days

def test_a_two_day_bad_print_in_gld_is_one_error(tmp_path):
    "GLD x3 on 2010-06-15 and -16, back on the 17th: refused before the allocation starts (it moved a Sharpe 1.26 -> 0.69)."
    data = copy_with(tmp_path/'data', ALLOC_FILES, 'GLD', times({'2010-06-15', '2010-06-16'}, 3.))
    line = one_error(run(ALLOCATE, '--data-dir', data))
    assert line.startswith('error: GLD: implausible prices: a close jumps and falls back within 5 days (a spike) on 2 '
                           'dates, first 2010-06-15, 2010-06-16. Correct or remove those rows'), line

# ------------------------------------------------------------------ defect 3: a test of a constant series

def test_an_all_cash_strategy_is_not_called_significant(tmp_path):
    "Predictions that are stress every day (100 % T-bills): excess-return Sharpe test 'not defined', no warnings."
    import pandas as pd
    days = pd.read_csv(DATA/'SPY.csv', usecols=['Date'])['Date']
    days = pd.DatetimeIndex(days[(days >= '2014-01-01') & (days <= '2016-12-31')], name='date')
    pred = tmp_path/'stress.csv'
    pd.DataFrame({'regime': 1, 'p_0': 0., 'p_1': 1.}, index=days).to_csv(pred)
    r = run(BACKTEST, '--pred', pred, '--start', '2014-01-01', '--end', '2016-12-31', '--split', '2016-01-01',
            '--json', tmp_path/'r.json')
    assert r.returncode == 0 and r.stderr == '', r.stderr[-2000:]  # no RuntimeWarning
    line = next(l for l in r.stdout.splitlines() if l.startswith('regime:'))
    assert 'excess-return Sharpe not defined vs ' in line and line.endswith(', p = not defined (HAC): not defined (a '
                                                                           'strategy with constant or non-finite returns '
                                                                           'has no Sharpe ratio)'), line
    assert json.loads((tmp_path/'r.json').read_text())['strategies']['regime']['sharpe_excess_diff_p_hac'] is None

# ------------------------------------------------------------------ defects 7, 8, 10: outputs checked before any work

def cmd(module:str, *args, **kw):
    "`run` for a module or for `deepregime now` (module 'now')."
    return run('deepregime', 'now', *args, **kw) if module == 'now' else run(module, *args, **kw)

@pytest.mark.parametrize('spelling', ['same', 'dot', 'symlink'])
@pytest.mark.parametrize('module,flags', [
    (FORECAST, ['--json', '--forecasts']), (WALK, ['--json', '--signals']), (BACKTEST, ['--json', '--save-pred']),
    ('now', ['--plot', '--json'])])
def test_two_outputs_naming_one_file_are_an_error(tmp_path, module, flags, spelling):
    "The same file, also as ./x or through a symlink: one error before any work, nothing written."
    out = tmp_path/'same.json'
    other = {'same': out, 'dot': tmp_path/'.'/'same.json', 'symlink': tmp_path/'link.json'}[spelling]
    if spelling == 'symlink': other.symlink_to(out)
    line = one_error(cmd(module, flags[0], out, flags[1], other, '--data-dir', NOWHERE))
    assert line.startswith(f'error: {flags[0]} and {flags[1]} both name '), line
    assert line.endswith(': give each output its own file'), line
    assert not out.exists()

@pytest.mark.parametrize('module', [ALLOCATE, WALK, BACKTEST])
def test_a_file_where_the_plots_need_a_folder_is_an_error(tmp_path, module):
    "--json out --plots out: the JSON would be written as `out`, then the plots would fail after the run."
    line = one_error(run(module, '--json', tmp_path/'out', '--plots', tmp_path/'out', '--data-dir', NOWHERE))
    assert line.startswith('error: --json and --plots collide: ') and line.endswith(
        'would be a file for one and a folder for the other'), line

@pytest.mark.parametrize('module,flag', [
    (FORECAST, '--json'), (FORECAST, '--forecasts'), (ALLOCATE, '--json'), (ALLOCATE, '--plots'), (WALK, '--json'),
    (BACKTEST, '--json'), ('now', '--json'), ('now', '--plot')])
def test_an_empty_output_name_is_refused_by_every_command(module, flag):
    assert one_error(cmd(module, f'{flag}=', '--data-dir', NOWHERE)).startswith(f'error: {flag}: empty')

@pytest.mark.parametrize('module,flag', [
    (FORECAST, '--data-dir'), (ALLOCATE, '--data-dir'), (WALK, '--data-dir'), ('now', '--data-dir'),
    ('now', '--checkpoint'), (BACKTEST, '--pred'), (TRAIN, '--regimes'), (INFER, '--checkpoint')])
def test_an_empty_input_name_is_an_argparse_error(module, flag):
    "`--data-dir=` would quietly mean $DEEPREGIME_DATA, `--pred=` would train instead of reading predictions."
    assert one_error(cmd(module, f'{flag}='), code=2).endswith(f'error: argument {flag}: empty path')

@pytest.mark.skipif(not IS_ROOT, reason='/proc is writable-looking only to root (others get "is not writable")')
@pytest.mark.parametrize('module,flag', [(FORECAST, '--json'), (ALLOCATE, '--json'), (WALK, '--json'),
                                         (BACKTEST, '--json'), ('now', '--json'), (WALK, '--cache-dir')])
def test_an_output_where_no_file_can_be_created_fails_before_work(module, flag):
    "/proc passes every permission test as root; the pre-check creates (and removes) a file there, folders too."
    line = one_error(cmd(module, flag, '/proc/x', '--data-dir', NOWHERE))
    assert line.startswith(f'error: {flag}: cannot write') and 'no file can be created in /proc' in line, line

# ------------------------------------------------------------------ defect 9: Ctrl-C

def interrupt(args:list, after:float, tmp_path:Path) -> subprocess.CompletedProcess:
    "Run `deepregime args` in its own process group, press Ctrl-C (SIGINT to the group) after `after` seconds."
    p = subprocess.Popen([str(Path(sys.executable).parent/'deepregime'), *map(str, args)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=env(), cwd=CWD, start_new_session=True)
    time.sleep(after)
    assert p.poll() is None, 'the command ended before Ctrl-C: make its run longer'
    os.killpg(p.pid, signal.SIGINT)
    out, err = p.communicate(timeout=120)
    return subprocess.CompletedProcess(p.args, p.returncode, out, err)

WF_SHORT = ['walkforward', '--start', '1996-01-01', '--end', '2001-12-31', '--first-test', '2000-01-01', '--no-cache']

@pytest.mark.parametrize('args,after', [
    (['forecast', '--methods', 'transformer', '--horizon', '5'], 5),
    (['forecast', '--methods', 'persistence', '--horizon', '5'], 1.2),  # while torch is imported (about 2.5 s)
    (['allocate'], 5),
    ([*WF_SHORT, '--jobs', '2'], 5),
    ([*WF_SHORT, '--jobs', '2'], 3),  # while the workers start
    (['backtest', '--start', '2010-01-01', '--end', '2016-12-31', '--split', '2016-01-01'], 5),  # training
], ids=['forecast', 'forecast-importing', 'allocate', 'walkforward-with-workers', 'walkforward-workers-starting',
        'backtest-training'])
def test_ctrl_c_is_one_line_and_exit_130(tmp_path, args, after):
    out = tmp_path/'r.json'
    r = interrupt([*args, '--json', out], after, tmp_path)
    assert (r.returncode, r.stderr) == (130, 'interrupted (Ctrl-C): nothing more was written\n'), r.stderr[-2000:]
    assert not out.exists() and list(tmp_path.iterdir()) == []

# ------------------------------------------------------------------ cosmetic: hints name the command-line options

def test_hints_name_the_command_line_options(tmp_path):
    data = damaged(tmp_path/'data', 'VIX', lambda l: [x for x in l if x[:10] <= '2020-06-30' or x.startswith('Date')])
    r = run('deepregime', 'data', '--data-dir', data, '--start', '2019-01-01')
    assert r.returncode == 0 and 'Pass --end (end= in Python) to require later data' in r.stderr, r.stderr
    r = run('deepregime', 'data', DEEPREGIME_DATA='', DEEPREGIME_CACHE=str(tmp_path/'cache'))  # offline, no folder
    assert one_error(r).endswith('set DEEPREGIME_DATA, or pass --data-dir (data_dir= in Python), to a folder with '
                                 '<ASSET>.csv, <VOL_INDEX>.csv and DTB3.csv (SPY.csv and VIX.csv by default)'), r.stderr

# ------------------------------------------------------------------ defect 1: a feature series missing a day SPY traded

def test_cross_asset_features_run_over_a_bond_market_holiday(tmp_path):
    "TNX has no 2010-10-11 (Columbus Day): the feature carries Friday's yield, the economic table is computed."
    r = run(FORECAST, '--features', 'cross_asset', '--methods', 'persistence', 'logistic', '--horizon', '5',
            '--json', tmp_path/'x.json', '--forecasts', tmp_path/'x.csv', timeout=300)
    assert r.returncode == 0 and r.stderr == '', r.stderr[-2000:]
    import pandas as pd
    days = pd.to_datetime(pd.read_csv(tmp_path/'x.csv')['date']).unique()
    assert pd.Timestamp('2010-10-11') in days and pd.Timestamp('2016-11-11') in days
    eco = json.loads((tmp_path/'x.json').read_text())['strategies']
    assert {(s['method'], s['lag']) for s in eco} >= {('logistic', 1), ('persistence', 5), ('buy_hold', 1)}

def test_a_feature_series_with_a_longer_hole_fails_before_the_walk_forward(tmp_path):
    "TNX also without 2010-10-12/13: more than CROSS_FILL days in a row, one error from the data layer, at once."
    data = copy_with(tmp_path/'data', ('SPY', 'VIX', 'DTB3', 'TLT', 'IEF', 'LQD', 'GLD', 'TNX'), 'TNX',
                     lambda l: [x for x in l if x[:10] not in ('2010-10-12', '2010-10-13')])
    t0 = time.perf_counter()
    line = one_error(run(FORECAST, '--features', 'cross_asset', '--methods', 'logistic', '--data-dir', data))
    assert line == ('error: TNX: no value on 2 SPY trading days, first 2010-10-12, 2010-10-13: longer holes than the 1 '
                    'day in a row a value may be carried'), line
    assert time.perf_counter() - t0 < 60

# ------------------------------------------------------------------ defect 4: too short, said before the long work

@pytest.mark.parametrize('args,msg', [
    ([FORECAST, '--end', '2005-01-20', '--horizon', '21'],
     'error: 0 test days have a known 21-day forward_vol target (the data end 2005-01-20); scoring needs 20: use an '
     '--end on or after 2005-03-02, which gives 41 trading days from the first test day 2005-01-03'),
    ([FORECAST, '--end', '2005-01-10'],
     'error: 0 test days have a known 21-day forward_vol target (the data end 2005-01-10); scoring needs 20: use an '
     '--end on or after 2005-03-02, which gives 41 trading days from the first test day 2005-01-03'),
    ([ALLOCATE, '--end', '2009-01-02'],
     'error: the test period holds 1 trading day; the table needs 25 (the largest lag, 5, plus 20 days of returns): '
     'use an --end on or after 2009-02-06, which gives 25 trading days from the first test day 2009-01-02'),
    ([WALK, '--methods', 'transformer_hx', '--data-dir', NOWHERE],
     "error: bad Transformer method 'transformer_hx': expected transformer_h<horizon in days>, e.g. transformer_h5"),
], ids=['forecast-h21-end-2005-01-20', 'forecast-end-2005-01-10', 'allocate-end-2009-01-02', 'walkforward-transformer_hx'])
def test_a_run_too_short_or_misnamed_is_one_sentence_before_any_fit(args, msg):
    t0 = time.perf_counter()
    assert one_error(run(*args)) == msg
    assert time.perf_counter() - t0 < 60  # the data are read, nothing is fitted

@pytest.mark.parametrize('args', [[FORECAST, '--end', '2005-03-02', '--horizon', '21', '--methods', 'persistence'],
                                  [ALLOCATE, '--end', '2009-02-06', '--lags', '1', '2', '5']], ids=['forecast', 'allocate'])
def test_the_suggested_end_works(tmp_path, args):
    r = run(*args, '--json', tmp_path/'r.json', timeout=300)
    assert r.returncode == 0 and r.stderr == '', r.stderr[-2000:]
    assert (tmp_path/'r.json').is_file()

# ------------------------------------------------------------------ defect 6: a quantile that leaves one class

@pytest.mark.parametrize('q', ['1', '0', '1.5'])
def test_a_quantile_outside_zero_one_is_refused(q):
    line = one_error(run(FORECAST, '--quantile', q, '--data-dir', NOWHERE), code=2)
    assert line.endswith(f"error: argument --quantile: must be a number > 0 and < 1, got '{q}'"), line

# ------------------------------------------------------------------ defect 5: `now` says which day it answers for

@pytest.mark.parametrize('end', [['--end', '2026-02-12'], []], ids=['asked-with-end', 'latest'])
def test_now_says_which_day_it_answers_for(tmp_path, end):
    "The VIX lacks SPY's last day (2026-02-12): the answer is for the 11th, and the first line says so and why."
    data = damaged(tmp_path/'data', 'VIX', lambda l: [x for x in l if not x.startswith('2026-02-12')])
    r = run('deepregime', 'now', '--start', '2015-01-01', *end, '--detectors', 'persistence', '--data-dir', data,
            '--json', tmp_path/'now.json')
    assert r.returncode == 0, r.stderr[-2000:]
    head = ("answers for 2026-02-11, not 2026-02-12, SPY's last trading day" + (' up to --end' if end else '') +
            ': the VIX has no value on 2026-02-12')
    assert r.stdout.splitlines()[0].startswith(head + ' (SPY and VIX; detectors fitted on'), r.stdout
    from deepregime.cli import stale_warning
    old = None if end else stale_warning('2026-02-11')  # asked about the latest day: also how old the data are
    assert json.loads((tmp_path/'now.json').read_text())['warnings'] == [head] + ([old] if old else [])

def test_now_warns_when_the_checkpoint_has_seen_the_day_asked(tmp_path, trained):
    "A model fitted on 2010-2014 asked about 2013-06-28: a warning on stderr and in the JSON; asked about 2016: none."
    r = run('deepregime', 'now', '--start', '2005-01-01', '--end', '2013-06-28', '--detectors', 'persistence',
            '--checkpoint', trained, '--json', tmp_path/'then.json')
    assert r.returncode == 0, r.stderr[-2000:]
    assert 'after the day asked (2013-06-28): its answer for that day has seen the future' in r.stderr, r.stderr
    assert len(json.loads((tmp_path/'then.json').read_text())['warnings']) == 1
    r = run('deepregime', 'now', '--start', '2005-01-01', '--end', '2016-06-30', '--detectors', 'persistence',
            '--checkpoint', trained)
    assert r.returncode == 0 and r.stderr == '', r.stderr[-2000:]
