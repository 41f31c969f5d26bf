"README.md is generated from nbs/index.ipynb and must be in step with it."
import subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

def test_readme_matches_index():
    r = subprocess.run([sys.executable, 'scripts/build_readme.py', '--check'], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr

def test_readme_has_the_two_commands():
    text = (ROOT/'README.md').read_text()
    assert 'bash scripts/main.sh' in text and 'bash scripts/test.sh' in text
    assert 'bash scripts/test.sh' in (ROOT/'.ci'/'run').read_text()

def test_readme_lists_every_notebook_and_command():
    "The chapter table links every notebook of nbs/, and the command list names every `deepregime` subcommand."
    import re
    from deepregime.cli import COMMANDS
    text = (ROOT/'README.md').read_text()
    linked = set(re.findall(r'\]\(nbs/([\w.]+\.ipynb)\)', text))
    notebooks = {p.name for p in (ROOT/'nbs').glob('*.ipynb')} - {'index.ipynb'}
    assert sorted(notebooks - linked) == [], 'notebooks missing from the chapter table'
    listed = re.search(r'deepregime ((?:\w+ \| )+\w+)', text)
    assert listed and sorted(set(COMMANDS) - set(listed.group(1).split(' | ')) - {'now'}) == [], 'subcommands missing'
    assert 'deepregime now' in text

def test_readme_commands_table_names_every_subcommand():
    from deepregime.cli import COMMANDS
    text = (ROOT/'README.md').read_text()
    assert sorted(c for c in COMMANDS if f'| `deepregime {c}` |' not in text) == [], 'subcommands missing from the table'

def test_readme_has_no_empty_heading():
    "Every heading is followed by text before the next heading (the README drops plots, which could leave one bare)."
    import re
    text = (ROOT/'README.md').read_text()
    parts = re.split(r'^#{1,6} .*$', text, flags=re.M)
    assert all(p.strip() for p in parts[1:]), 'a heading with nothing under it'

def test_readme_quickstart_runs(tmp_path):
    "The Python quickstart, run as printed: it prints the metrics table of the three strategies."
    import os, re
    text = (ROOT/'README.md').read_text()
    code = re.search(r'## Quickstart in Python.*?```python\n(.*?)```', text, re.S).group(1)
    assert len(code.strip().splitlines()) <= 12
    data = os.environ.get('DEEPREGIME_DATA') or str(ROOT.parent/'shared'/'data')
    r = subprocess.run([sys.executable, '-c', code], cwd=tmp_path, capture_output=True, text=True, timeout=300,
                       env={**os.environ, 'DEEPREGIME_DATA': data})
    assert r.returncode == 0, r.stderr[-2000:]
    rows = [l.split()[0] for l in r.stdout.splitlines()[2:]]
    assert rows == ['buy_hold', 'regime', 'regime_leveraged'], r.stdout
    assert 'Sharpe xs' in r.stdout.splitlines()[0]
