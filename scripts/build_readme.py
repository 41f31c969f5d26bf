"""Write README.md from nbs/index.ipynb (nbdev_readme needs Quarto, which cannot be installed here).

Markdown cells are copied with their links re-rooted at the repository; text outputs of code cells (tables) become
fenced blocks; code and inline images are left out. `--check` exits 1 when README.md is not what this would write."""
import json, re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

def _reroot(md:str) -> str:
    "Links relative to nbs/ become relative to the repository root."
    return re.sub(r'\]\((?!https?:|#|/)([^)]+)\)', lambda m: f'](nbs/{m.group(1)})', md)

def readme_text(nb_path:Path=ROOT/'nbs'/'index.ipynb') -> str:
    nb = json.loads(nb_path.read_text())
    parts = ['<!-- Generated from nbs/index.ipynb by scripts/build_readme.py; edit the notebook, not this file. -->']
    for c in nb['cells']:
        src = ''.join(c['source'])
        if c['cell_type'] == 'markdown': parts.append(_reroot(src))
        elif c['cell_type'] == 'code':
            for o in c.get('outputs', []):
                data = o.get('data', {})
                if 'image/png' in data: continue
                text = ''.join(data.get('text/plain', '')) if data else ''.join(o.get('text', ''))
                if text.strip(): parts.append('```text\n' + text.rstrip() + '\n```')
    return '\n\n'.join(parts).rstrip() + '\n'

if __name__ == '__main__':
    text, dest = readme_text(), ROOT/'README.md'
    if '--check' in sys.argv:
        if dest.read_text() != text: sys.exit('README.md is out of date with nbs/index.ipynb: run python scripts/build_readme.py')
    else: dest.write_text(text)
