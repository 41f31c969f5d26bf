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
