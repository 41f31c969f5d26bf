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
