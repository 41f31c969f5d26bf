"""Sphinx configuration of the offline documentation site.

scripts/build_docs.py copies this folder (docs/) into _build/sphinx_src/ beside the translated pages and writes
`site.json` there with what comes from `_quarto.yml`, the one site configuration (the title): edit _quarto.yml for
the title and the pages, this file for how Sphinx renders them.
"""
import json, sys
from pathlib import Path

_here = Path(__file__).resolve().parent
_site_file = _here/'site.json'
if not _site_file.exists():
    raise RuntimeError(f'{_site_file} is missing: build the site with scripts/build_docs.py, not sphinx-build')
_site = json.loads(_site_file.read_text())
sys.path.insert(0, str(_here/'_ext'))

project = _site['title']
html_title = _site['title']
extensions = ['myst_nb', 'offline_math']
root_doc = 'index'
exclude_patterns = ['_build', '_ext', '**.ipynb_checkpoints']
nb_execution_mode = 'off'          # notebooks carry their outputs
nb_merge_streams = True
nb_render_markdown_format = 'myst'  # show_doc output is markdown
myst_enable_extensions = ['dollarmath', 'amsmath', 'colon_fence']
myst_heading_anchors = 4
html_math_renderer = 'offline'     # no MathJax from a CDN
html_theme = 'furo'
html_show_sourcelink = False
html_static_path = ['_static']
html_css_files = ['deepregime.css']  # wide outputs scroll in their own box
html_copy_source = False
html_show_copyright = False
suppress_warnings = ['myst.header']  # show_doc's headings start at H3
