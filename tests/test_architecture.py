"""The package's shape, checked: dependencies point down the flow (import-linter's contracts in .importlinter), no
module imports a private name from another, and every module stays small enough to read in one sitting."""
import ast, subprocess, sys
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
