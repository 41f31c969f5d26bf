"""The commands a user types, run as a user runs them: the installed `deepregime` script and the seed's
`python -m` paths, each with its help, and the one error convention (argparse errors exit 2, bad input exits 1
with one `error:` line)."""
import os, subprocess, sys
from pathlib import Path
import pytest

BIN = Path(sys.executable).parent
MODULES = ['deepregime.training.train_transformer', 'deepregime.inference', 'deepregime.backtest.backtest_leverage',
           'deepregime.walkforward', 'deepregime.forecasting', 'deepregime.allocation']

def run(args, timeout=300):
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, env={**os.environ, 'MPLBACKEND': 'Agg'})

def test_deepregime_help():
    r = run([str(BIN/'deepregime'), '--help'])
    assert r.returncode == 0, r.stderr
    for c in ('data', 'labels', 'train', 'predict', 'backtest', 'walkforward', 'forecast', 'allocate', 'now'):
        assert c in r.stdout

@pytest.mark.parametrize('module', MODULES)
def test_python_m_help(module):
    "Each entry point's help, with the data options every command shares in their own group."
    r = run([sys.executable, '-m', module, '--help'])
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(f'usage: python -m {module} '), r.stdout[:200]
    data = r.stdout.split('\ndata:\n')[1]
    assert [l.split()[0] for l in data.splitlines() if l.startswith('  --')] == ['--data-dir', '--asset', '--vol-index', '--start',
                                                                               '--end'], data

@pytest.mark.parametrize('args,says', [(['--start', 'garbage'], 'not a date'), (['--end', '2024-13-01'], 'not a date'),
                                       (['--asset', '../SPY'], 'not a ticker'), (['--vol-index', 'DTB3'], 'rate series')])
@pytest.mark.parametrize('module', MODULES)
def test_bad_data_options_are_argparse_errors(module, args, says):
    r = run([sys.executable, '-m', module, *args])
    assert r.returncode == 2 and says in r.stderr, (r.returncode, r.stderr[-500:])

@pytest.mark.parametrize('module,flag', [('deepregime.training.train_transformer', '--out'),
                                         ('deepregime.backtest.backtest_leverage', '--json'),
                                         ('deepregime.walkforward', '--json')])
def test_output_that_is_a_directory_fails_before_work(module, flag, tmp_path):
    "One `error:` line and exit 1, at once (no training or walk-forward ran: it takes far longer than this limit)."
    r = run([sys.executable, '-m', module, flag, str(tmp_path)], timeout=60)
    assert r.returncode == 1, (r.returncode, r.stderr[-800:])
    assert r.stderr.strip().splitlines() == [f'error: {flag}: {tmp_path} is a directory, not a file'], r.stderr[-800:]

def test_now_answers(tmp_path):
    r = run([str(BIN/'deepregime'), 'now', '--start', '2015-01-01', '--detectors', 'persistence', 'vix_threshold',
             '--json', str(tmp_path/'now.json')])
    assert r.returncode == 0 and r.stderr == '', r.stderr[-2000:]
    assert r.stdout.startswith('latest trading day in the data: 20'), r.stdout
    import json
    assert json.loads((tmp_path/'now.json').read_text())['date'] == r.stdout.split(': ')[1][:10]
    assert (tmp_path/'now.json').is_file()
