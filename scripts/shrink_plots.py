"""Store the plots of notebooks as 8-bit palette PNGs (typically a third of the size; line plots look the same).

Usage: .venv/bin/python scripts/shrink_plots.py nbs/NAME.ipynb ...   (scripts/run_notebooks.sh runs it on every
notebook it executes). A plot is replaced only when its palette version is smaller, so running it twice changes
nothing. Keeps the notebooks small enough to review and to load as pages of the docs site."""
import base64, io, json, sys
from pathlib import Path

from PIL import Image

def shrink_png(b64:str) -> str:
    "The same picture as an 8-bit palette PNG (median-cut palette of 256 colours, no dithering), if that is smaller."
    raw = base64.b64decode(b64)
    img = Image.open(io.BytesIO(raw))
    if img.mode == 'P': return b64
    buf = io.BytesIO()
    img.convert('RGB').quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(buf, 'PNG', optimize=True)
    small = buf.getvalue()
    return base64.b64encode(small).decode() + '\n' if len(small) < len(raw) else b64

def shrink_notebook(path:Path) -> tuple:
    "Shrink every stored PNG output of the notebook at `path` in place; (bytes before, bytes after)."
    text = path.read_text()
    nb = json.loads(text)
    for cell in nb['cells']:
        for out in cell.get('outputs', []):
            data = out.get('data', {})
            if 'image/png' in data:
                png = data['image/png']
                data['image/png'] = shrink_png(''.join(png) if isinstance(png, list) else png)
    new = json.dumps(nb, indent=1, ensure_ascii=False) + '\n'
    if new != text: path.write_text(new)
    return len(text.encode()), len(new.encode())

if __name__ == '__main__':
    for f in sys.argv[1:]:
        before, after = shrink_notebook(Path(f))
        print(f'{f}: {before // 1000} KB -> {after // 1000} KB')
