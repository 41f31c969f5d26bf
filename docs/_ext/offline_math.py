"""Render math without JavaScript from a CDN: MathML from latex2mathml when installed, else the TeX source as text.

A Sphinx extension of the offline site (docs/conf.py enables it as `html_math_renderer = 'offline'`).
"""
from docutils import nodes
from html import escape
try: from latex2mathml.converter import convert as _to_mathml
except ImportError: _to_mathml = None

def _render(tex, display):
    if _to_mathml is not None:
        try: return _to_mathml(tex, display='block' if display else 'inline')
        except Exception: pass
    return f'<code class="math-tex">{escape(tex)}</code>'

def visit_math(self, node):
    self.body.append(f'<span class="math">{_render(node.astext(), False)}</span>')
    raise nodes.SkipNode

def visit_displaymath(self, node):
    self.body.append(f'<div class="math">{_render(node.astext(), True)}</div>')
    raise nodes.SkipNode

def setup(app):
    app.add_html_math_renderer('offline', inline_renderers=(visit_math, None),
                               block_renderers=(visit_displaymath, None))
    return {'parallel_read_safe': True, 'parallel_write_safe': True}
