"Run every chapter notebook through nbdev's test runner (honours the `#| notest`/`#| slow` flags in settings.ini)."
import os, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
NBS = sorted(str(p.relative_to(ROOT/'nbs')) for p in (ROOT/'nbs').rglob('*.ipynb') if '_proc' not in p.parts
             and '.ipynb_checkpoints' not in p.parts)  # every notebook of nbs/

@pytest.mark.parametrize('nb', NBS)
def test_notebook(nb):
    nbdev_test = Path(sys.executable).parent/'nbdev_test'
    r = subprocess.run([str(nbdev_test), '--path', f'nbs/{nb}'], cwd=ROOT, capture_output=True, text=True,
                       env={**os.environ, 'MPLBACKEND': 'Agg'})
    assert r.returncode == 0 and 'Success' in r.stdout, f'{nb} failed:\n{r.stderr[-6000:]}'
