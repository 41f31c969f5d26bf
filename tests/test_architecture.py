"""The package's shape, checked: dependencies point down the flow (import-linter's contracts in .importlinter), no
module imports a private name from another, every module stays small enough to read in one sitting, and every module
is written by exactly one notebook."""
import ast, json, re, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT/'deepregime'
MAX_LINES = 400  # a module longer than this should be split by concern

def modules():
    return sorted(p for p in PKG.rglob('*.py') if p.name != '_modidx.py')

def test_import_contracts():
    "The layers and acyclic-siblings contracts of .importlinter hold (an upward import or a cycle fails here)."
    lint = Path(sys.executable).parent/'lint-imports'
    r = subprocess.run([str(lint), '--config', str(ROOT/'.importlinter')], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    assert 'BROKEN' not in r.stdout and r.stdout.count('KEPT') == 2, r.stdout[-2000:]

def private_imports(path:Path) -> list:
    "`from <a deepregime module> import _name` statements in `path` (module level and nested), as `line: text`."
    bad = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.level > 0 or (node.module or '').startswith('deepregime')):
            bad += [f'{path.name}:{node.lineno} imports {a.name} from {node.module}'
                    for a in node.names if a.name.startswith('_') and not a.name.startswith('__')]
    return bad

def test_private_imports_are_detected(tmp_path):
    "The check itself can fail: private names imported from deepregime modules are reported, others are not."
    f = tmp_path/'m.py'
    f.write_text('from deepregime.data import _read_csv\nfrom .utils import day\nfrom os import _exit\n'
                 'def g():\n    from ..features import _check\n')
    assert private_imports(f) == ['m.py:1 imports _read_csv from deepregime.data', 'm.py:5 imports _check from features']

def test_no_private_imports_between_modules():
    bad = [b for p in modules() for b in private_imports(p)]
    assert bad == [], '\n'.join(bad)

def test_modules_are_short():
    long = {str(p.relative_to(ROOT)): n for p in modules() if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert long == {}, f'modules over {MAX_LINES} lines: {long}'


def notebook_exports(nbs:Path=ROOT/'nbs') -> tuple:
    "(module -> notebooks whose `#| default_exp` names it, cells that export to another module as `notebook: line`)."
    owners, foreign = {}, []
    for nb in sorted(nbs.rglob('*.ipynb')):
        if '_proc' in nb.parts or '.ipynb_checkpoints' in nb.parts: continue
        for c in json.loads(nb.read_text())['cells']:
            if c['cell_type'] != 'code': continue
            src = ''.join(c['source'])
            for m in re.finditer(r'^#\|[ \t]*default_exp[ \t]+(\S+)', src, re.M):
                owners.setdefault(m.group(1), []).append(str(nb.relative_to(nbs)))
            foreign += [f'{nb.name}: {m.group(0)}' for m in re.finditer(r'^#\|[ \t]*export[is]?[ \t]+\S+', src, re.M)]
    return owners, foreign

def test_one_notebook_per_module():
    "Every module but the empty package markers and nbdev's own files is written by exactly one notebook, in nbs/ itself."
    owners, foreign = notebook_exports()
    written = {'.'.join(p.relative_to(PKG).with_suffix('').parts) for p in modules()
               if p != PKG/'__init__.py' and p.read_text().strip()}
    assert foreign == [], f'cells exporting to another module than their notebook\'s: {foreign}'
    assert {m: n for m, n in owners.items() if len(n) > 1} == {}, 'modules written by several notebooks'
    assert sorted(written - set(owners)) == [], 'modules no notebook writes'
    assert sorted(set(owners) - written) == [], 'notebooks whose module is missing (run nbdev_export)'
    assert [n for ns in owners.values() for n in ns if '/' in n] == [], 'notebooks outside nbs/ itself'

def test_notebook_exports_are_detected(tmp_path):
    "The check itself can fail: a second owner and a cell exporting elsewhere are both found."
    cell = lambda src: {'cell_type': 'code', 'source': src, 'metadata': {}, 'outputs': []}
    for name, cells in [('a.ipynb', ['#| default_exp x', '#| export y\ndef f(): pass']), ('b.ipynb', ['#| default_exp x'])]:
        (tmp_path/name).write_text(json.dumps({'cells': [cell(s) for s in cells]}))
    owners, foreign = notebook_exports(tmp_path)
    assert owners == {'x': ['a.ipynb', 'b.ipynb']} and foreign == ['a.ipynb: #| export y']
