"The package works outside the repo, as a user would call it."
import os, subprocess, sys, tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

def test_load_market_from_any_folder():
    code = "from deepregime.data import load_market; m = load_market('2005-01-01','2024-12-31'); print(len(m), m.index[0].date(), m.index[-1].date())"
    with tempfile.TemporaryDirectory() as d:
        r = subprocess.run([sys.executable, '-c', code], cwd=d, capture_output=True, text=True, env=os.environ)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ['5033', '2005-01-03', '2024-12-31']

def test_offline_without_data_is_a_clear_error():
    code = "from deepregime.data import load_market; load_market('2005-01-01','2024-12-31')"
    with tempfile.TemporaryDirectory() as d:
        env = {k: v for k, v in os.environ.items() if k != 'DEEPREGIME_DATA'}
        env['DEEPREGIME_CACHE'] = str(Path(d)/'cache')
        env['HTTPS_PROXY'] = env['HTTP_PROXY'] = 'http://127.0.0.1:9'  # no download can succeed, online or not
        r = subprocess.run([sys.executable, '-c', code], cwd=d, capture_output=True, text=True, env=env)
        assert not (Path(d)/'cache').exists()
    assert r.returncode != 0
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith('deepregime.checks.DataError: SPY:') and 'DEEPREGIME_DATA' in last, last
