"""Unit tests of scripts/build_docs.py: the Quarto-to-MyST translation on tiny hand-made cells, notebooks and
markdown, the Sphinx files it copies from docs/, and the site checks. No site build, no nbdev processing."""
import importlib.util, sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

def _load_build_docs():
    "The build script as a module (its work runs only under __main__)."
    spec = importlib.util.spec_from_file_location('build_docs', ROOT/'scripts'/'build_docs.py')
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod

bd = _load_build_docs()
PREFIX = 'https://deepregime.github.io/deepregime/'
LINKS = bd.Links({'00_data.ipynb': 'data.ipynb', 'index.ipynb': 'index.ipynb'}, {'09_cli.ipynb', '01a_detectors.ipynb'},
                 PREFIX)

def code(src, outputs=(), **kw):
    return {'cell_type': 'code', 'metadata': {}, 'source': src, 'outputs': list(outputs), **kw}
def md(src): return {'cell_type': 'markdown', 'metadata': {}, 'source': src}
def raw(src): return {'cell_type': 'raw', 'metadata': {}, 'source': src}
def stdout(text): return {'output_type': 'stream', 'name': 'stdout', 'text': text}
def stderr(text): return {'output_type': 'stream', 'name': 'stderr', 'text': text}

# ---------------------------------------------------------------------------------------------------------------
# site configuration and page names

def test_page_name():
    assert bd.page_name('00_data.ipynb') == 'data'
    assert bd.page_name('01a_detectors.ipynb') == 'detectors'
    assert bd.page_name('index.ipynb') == 'index'
    assert bd.page_name('tutorials/02b_Baselines.ipynb') == 'tutorials/baselines'

def test_read_site_config(tmp_path):
    (tmp_path/'_quarto.yml').write_text(
        'website:\n  title: "T"\n  sidebar:\n    contents:\n      - index.ipynb\n      - href: 00_data.ipynb\n'
        '      - section: Detectors\n        contents: [01a_detectors.ipynb, {href: 02b_baselines.ipynb}]\n'
        '      - 09_cli.ipynb\n')
    site = bd.read_site_config(tmp_path)
    assert site == dict(title='T', description='', pages=[
        (None, 'index.ipynb'), (None, '00_data.ipynb'), ('Detectors', '01a_detectors.ipynb'),
        ('Detectors', '02b_baselines.ipynb'), (None, '09_cli.ipynb')])

def test_read_site_config_errors(tmp_path):
    (tmp_path/'_quarto.yml').write_text('website:\n  sidebar:\n    contents: [index.ipynb]\n')
    with pytest.raises(SystemExit, match='website.title'): bd.read_site_config(tmp_path)
    (tmp_path/'_quarto.yml').write_text('website:\n  title: T\n  sidebar:\n    contents: auto\n')
    with pytest.raises(SystemExit, match='must list the pages'): bd.read_site_config(tmp_path)

def test_the_project_site_lists_pages():
    site = bd.read_site_config(ROOT)
    assert site['title'] and (None, 'index.ipynb') in site['pages']

def test_unlisted_pages(tmp_path):
    for f in ['index.ipynb', '00_data.ipynb', '01a_detectors.ipynb', 'sub/02b_baselines.ipynb',
              '.ipynb_checkpoints/00_data-checkpoint.ipynb', '_scratch.ipynb', '_tmp/x.ipynb', 'styles.css']:
        (tmp_path/f).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path/f).write_text('{}')
    assert bd.unlisted_pages(tmp_path, ['index.ipynb', '00_data.ipynb', 'gone.ipynb']) == {
        '01a_detectors.ipynb', 'sub/02b_baselines.ipynb'}

# ---------------------------------------------------------------------------------------------------------------
# front matter -> title

def test_front_matter():
    assert bd.front_matter(raw('---\ntitle: Data\ndescription: SPY and VIX\n---\n')) == {
        'title': 'Data', 'description': 'SPY and VIX'}
    assert bd.front_matter(raw(['---\n', 'title: Data\n', '---'])) == {'title': 'Data'}
    assert bd.front_matter(md('---\ntitle: Data\n---')) is None       # only raw cells hold front matter
    assert bd.front_matter(raw('title: Data')) is None                # no fences
    assert bd.front_matter(raw('---\n- a\n- b\n---')) is None         # YAML, but not a mapping
    assert bd.front_matter(raw('---\ntitle: [unclosed\n---')) is None  # not YAML

def test_md_front_matter():
    assert bd.md_front_matter('---\ntitle: About\n---\nBody\n') == ({'title': 'About'}, 'Body\n')
    assert bd.md_front_matter('Body\n---\n') == ({}, 'Body\n---\n')
    assert bd.md_front_matter('---\n\n---\nBody') == ({}, 'Body')

def test_title_markdown():
    assert bd.title_markdown({'title': 'Data', 'description': 'SPY and VIX.'}, 'x') == '# Data\n\n> SPY and VIX.\n'
    assert bd.title_markdown({}, '00_data') == '# 00_data\n'
    assert bd.title_markdown({'title': ''}, '00_data') == '# 00_data\n'

# ---------------------------------------------------------------------------------------------------------------
# cell options -> tags and metadata

def test_split_cell_options():
    src = '#| echo: false\n#|   fig-cap: "Equity: SPY"\n#| hide\n\nx = 1\n#| later: not an option'
    assert bd.split_cell_options(src) == ({'echo': False, 'fig-cap': 'Equity: SPY', 'hide': True},
                                          'x = 1\n#| later: not an option')
    assert bd.split_cell_options('x = 1') == ({}, 'x = 1')
    assert bd.split_cell_options('#| label: [bad') == ({'label': '[bad'}, '')  # not YAML: kept as text

def test_cell_tags():
    assert bd.cell_tags({}, 'x') == []
    assert bd.cell_tags({'include': False}, 'x') == ['remove-cell']
    assert bd.cell_tags({'echo': 'false'}, 'x') == ['remove-input']
    assert bd.cell_tags({'output': False}, 'x') == ['remove-output']
    assert bd.cell_tags({'code-fold': True}, 'x') == ['hide-input']
    assert bd.cell_tags({'code-fold': 'show'}, 'x') == []
    assert bd.cell_tags({}, '  \n') == ['remove-input']  # nothing left to show after the options
    assert bd.cell_tags({'output': 'asis'}, 'x') == []

def test_cell_figure():
    assert bd.cell_figure({'fig-cap': 'Equity', 'label': 'fig-eq'}) == {
        'figure': {'caption': 'Equity', 'name': 'fig-eq'}}
    assert bd.cell_figure({'label': 'fig-eq'}) == {}  # a name without a caption is no figure
    assert bd.cell_figure({'fig-alt': 'a line'}) == {'image': {'alt': 'a line'}}
    assert bd.cell_figure({}) == {}

def test_cell_outputs():
    outs = [stdout(['### f\n', 'text']), stderr('careful'), {'output_type': 'execute_result', 'data': {}}]
    assert bd.cell_outputs({}, outs) == outs
    assert bd.cell_outputs({'output': 'asis'}, outs) == [
        {'output_type': 'display_data', 'metadata': {}, 'data': {'text/markdown': '### f\ntext'}}, *outs[1:]]
    assert bd.cell_outputs({'warning': False}, outs) == [outs[0], outs[2]]

def test_apply_cell_options():
    cell = code('#| echo: false\n#| fig-cap: Equity\nplot()', [stderr('w')],
                metadata={'tags': ['keep', 'remove-input']})
    assert bd.apply_cell_options(cell) is cell
    assert cell == code('plot()', [stderr('w')], metadata={'tags': ['keep', 'remove-input'],
                                                              'mystnb': {'figure': {'caption': 'Equity'}}})
    assert bd.apply_cell_options(code(['#| hide\n', '1'])) == code('1')  # unknown options: just stripped

# ---------------------------------------------------------------------------------------------------------------
# callouts, fenced divs, heading and link attributes

def test_translate_div():
    assert bd.translate_div('::: {.callout-note}') == ':::{note}'
    assert bd.translate_div(':::: {.callout-warning title="Look-ahead"}') == \
        '::::{admonition} Look-ahead\n:class: warning'
    assert bd.translate_div("::: {.callout-tip title='Why'}") == ':::{admonition} Why\n:class: tip'
    assert bd.translate_div('::: callout-important') == ':::{important}'
    assert bd.translate_div('::: {.column-margin .small}') == ':::{container} column-margin small'
    assert bd.translate_div('::: {.callout-unknown}') == ':::{container} callout-unknown'
    assert bd.translate_div(':::') is None  # a closing fence stays as it is
    assert bd.translate_div('Some text') is None

def test_translate_heading():
    assert bd.translate_heading('## Folds {#sec-folds .unnumbered}') == ['(sec-folds)=', '## Folds']
    assert bd.translate_heading('## Folds {.unnumbered}') == ['## Folds']
    assert bd.translate_heading('## The set {x}') == ['## The set {x}']  # no id, no class: not attributes
    assert bd.translate_heading('Text {#not-a-heading}') == ['Text {#not-a-heading}']

def test_strip_link_attrs():
    assert bd.strip_link_attrs('[src](https://x.org/a.py#L3){target="_blank" style="float:right"}') == \
        '[src](https://x.org/a.py#L3)'
    assert bd.strip_link_attrs('[a](u "T"){.external} and [b](v)') == '[a](u "T") and [b](v)'
    assert bd.strip_link_attrs('a set {1, 2} and `f(x){y}`') == 'a set {1, 2} and `f(x){y}`'

def test_translate_markdown():
    text = ('::: {.callout-note}\nSee [the data](00_data.ipynb){target="_blank"}.\n:::\n\n## Folds {#sec-folds}\n'
            '```python\n::: {.callout-note}\n# a comment {#x}\n```\nafter')
    assert bd.translate_markdown(text, LINKS) == (
        ':::{note}\nSee [the data](data.ipynb).\n:::\n\n(sec-folds)=\n## Folds\n'
        '```python\n::: {.callout-note}\n# a comment {#x}\n```\nafter')  # code blocks are kept as written

def test_translate_markdown_fences():
    text = '````\n```\n::: x\n```\n````\n::: x'  # a longer fence holds a shorter one
    assert bd.translate_markdown(text, LINKS) == '````\n```\n::: x\n```\n````\n:::{container} x'
    assert bd.translate_markdown('~~~\n## A {#a}\n~~~\n## A {#a}', LINKS) == '~~~\n## A {#a}\n~~~\n(a)=\n## A'

# ---------------------------------------------------------------------------------------------------------------
# links between chapters and to nbdev's doc pages

def test_links_missing_html():
    assert LINKS.missing_html == {'cli.html', 'detectors.html'}

def test_rewrite_links_between_pages():
    assert bd.rewrite_links('[data](00_data.ipynb) and [d](./00_data.ipynb)', LINKS) == \
        '[data](data.ipynb) and [d](data.ipynb)'
    assert bd.rewrite_links('[`load_market`](00_data.ipynb#load_market)', LINKS) == \
        '<a class="reference internal" href="data.html#load_market"><code>load_market</code></a>'
    assert bd.rewrite_links('[the CLI](09_cli.ipynb#usage)', LINKS) == 'the CLI'  # listed, not written yet
    assert bd.rewrite_links('[a typo](00_dta.ipynb)', LINKS) == '[a typo](00_dta.ipynb)'  # left for Sphinx to flag
    assert bd.rewrite_links('[x](https://example.org/a.ipynb)', LINKS) == '[x](https://example.org/a.ipynb)'

def test_rewrite_links_doc_host():
    assert bd.rewrite_links(f'[`load_market`]({PREFIX}data.html#load_market)', LINKS) == \
        '<a class="reference internal" href="data.html#load_market"><code>load_market</code></a>'
    # methods: nbdev links `class.method`, the show_doc heading's id has no dot
    assert bd.rewrite_links(f'[`Labeller.fit`]({PREFIX}labels.html#labeller.fit)', LINKS) == \
        '<a class="reference internal" href="labels.html#labellerfit"><code>Labeller.fit</code></a>'
    # a module in a sub-package (deepregime/regimes/base.py) documented in a notebook not on the site yet
    assert bd.rewrite_links(f'[`RegimeDetector`]({PREFIX}detectors.html#regimedetector.fit)', LINKS) == \
        '`RegimeDetector`'
    assert bd.rewrite_links(f'[a <b>](https://other.org/data.html)', LINKS) == '[a <b>](https://other.org/data.html)'
    assert bd.rewrite_links(f'[a <b>]({PREFIX}data.html)', LINKS) == \
        '<a class="reference internal" href="data.html">a &lt;b&gt;</a>'
    no_host = bd.Links(LINKS.pages, LINKS.missing, '')
    assert bd.rewrite_links(f'[`f`]({PREFIX}data.html#f)', no_host) == f'[`f`]({PREFIX}data.html#f)'

# ---------------------------------------------------------------------------------------------------------------
# cells, notebooks and markdown pages

SHOW_DOC = ('---\n\n[source](https://github.com/x/deepregime/regimes/base.py#L9)'
            '{target="_blank" style="float:right"}\n\n'
            f'### RegimeDetector.fit\n\n*Learn; returns [`RegimeDetector`]({PREFIX}labels.html#labeller).*\n')

def test_translate_doc_output():
    assert bd.translate_doc_output(SHOW_DOC, LINKS) == (
        '[source](https://github.com/x/deepregime/regimes/base.py#L9)\n\n### RegimeDetector.fit\n\n*Learn; returns '
        '<a class="reference internal" href="labels.html#labeller"><code>RegimeDetector</code></a>.*\n')
    assert bd.translate_doc_output('a\n---\nb', LINKS) == 'a\n---\nb'  # only an opening rule goes
    # a linked name in a signature's comment keeps its words: a code block would show the link's HTML as text
    sig = f'```python\ndef f(\n    x:int, # from [`load_market`]({PREFIX}data.html#load_market)\n)\n```\n\nSee [`f`]({PREFIX}data.html#f).\n'
    assert bd.translate_doc_output(sig, LINKS) == ('```python\ndef f(\n    x:int, # from `load_market`\n)\n```\n\nSee '
                                                   '<a class="reference internal" href="data.html#f"><code>f</code></a>.\n')

def test_translate_cell():
    assert bd.translate_cell(md('<!-- WARNING: THIS FILE WAS AUTOGENERATED! DO NOT EDIT! -->'), LINKS) is None
    assert bd.translate_cell(raw('<b>html</b>'), LINKS) is None
    assert bd.translate_cell(md('::: {.callout-tip}'), LINKS) == md(':::{tip}')
    src = '#| echo: false\n#| output: asis\nshow_doc(RegimeDetector.fit)'
    cell = bd.translate_cell(code(src, [stdout(SHOW_DOC)]), LINKS)
    assert cell['metadata'] == {'tags': ['remove-input']}
    assert cell['outputs'] == [{'output_type': 'display_data', 'metadata': {},
                                'data': {'text/markdown': bd.translate_doc_output(SHOW_DOC, LINKS)}}]

def test_nbformat_cell():
    assert bd.nbformat_cell(code('x', has_sd=True, idx_=3), 4) == {
        'cell_type': 'code', 'metadata': {}, 'source': 'x', 'outputs': [], 'id': 'cell-4', 'execution_count': None}
    assert bd.nbformat_cell({**md('y'), 'id': 'abc'}, 0) == {**md('y'), 'id': 'abc'}

def test_translate_notebook():
    nb = {'metadata': {'widgets': {}, 'kernelspec': {}}, 'nbformat': 4, 'nbformat_minor': 4, 'cells': [
        raw('---\ntitle: Market data\ndescription: SPY and the VIX.\n---'),
        md('<!-- WARNING: THIS FILE WAS AUTOGENERATED! DO NOT EDIT! -->'),
        md('Read [features](01_features.ipynb).'),
        code('#| include: false\nimport x', has_sd=False),
        raw('---\ntitle: second front matter: dropped\n---')]}
    toc = md('```{toctree}\n```')
    fm = bd.translate_notebook(nb, '00_data', LINKS, [toc])
    assert fm == {'title': 'Market data', 'description': 'SPY and the VIX.'}
    assert nb == {'metadata': {'kernelspec': {}}, 'nbformat': 4, 'nbformat_minor': 5, 'cells': [
        {**md('# Market data\n\n> SPY and the VIX.\n'), 'id': 'cell-0'},
        {**md('Read [features](01_features.ipynb).'), 'id': 'cell-1'},
        {**code('import x', metadata={'tags': ['remove-cell']}), 'id': 'cell-2', 'execution_count': None},
        {**md('```{toctree}\n```'), 'id': 'cell-3'}]}

def test_translate_notebook_without_front_matter():
    nb = {'cells': [md('x')]}
    assert bd.translate_notebook(nb, '00_data', LINKS) == {}
    assert nb['cells'][0]['source'] == '# 00_data\n'

def test_translate_md_page():
    text = '---\ntitle: About\ndescription: Why.\n---\nSee [data](00_data.ipynb).\n'
    assert bd.translate_md_page(text, 'about', LINKS, ['TOC']) == \
        '# About\n\n> Why.\n\nSee [data](data.ipynb).\n\n\nTOC'
    assert bd.translate_md_page('Body', 'about', LINKS) == '# about\n\nBody'

def test_toctree_markdown():
    assert bd.toctree_markdown([(None, 'data'), (None, 'features')]) == \
        '```{toctree}\n:hidden:\n:maxdepth: 1\n\ndata\nfeatures\n```'
    assert bd.toctree_markdown([(None, 'data'), ('Detectors', 'detectors'), ('Detectors', 'baselines')]) == (
        '```{toctree}\n:hidden:\n:maxdepth: 1\n\ndata\n```\n\n'
        '```{toctree}\n:hidden:\n:maxdepth: 1\n:caption: Detectors\n\ndetectors\nbaselines\n```')
    assert bd.toctree_markdown([]) == ''

def test_index_markdown():
    assert bd.index_markdown({'title': 'T', 'description': 'D'}, [(None, 'data')]) == \
        '# T\n\nD\n\n```{toctree}\n:hidden:\n:maxdepth: 1\n\ndata\n```'
    assert bd.index_markdown({'title': 'T', 'description': ''}, []) == '# T\n\n'

# ---------------------------------------------------------------------------------------------------------------
# the Sphinx files from docs/

def test_write_sphinx_files(tmp_path, monkeypatch):
    bd.write_sphinx_files({'title': 'My site', 'description': 'x', 'pages': []}, tmp_path)
    assert (tmp_path/'_ext'/'offline_math.py').read_text() == (ROOT/'docs'/'_ext'/'offline_math.py').read_text()
    assert not list(tmp_path.rglob('__pycache__'))
    monkeypatch.setattr(sys, 'path', list(sys.path))  # conf.py puts its _ext/ on sys.path
    ns = {'__file__': str(tmp_path/'conf.py')}
    exec(compile((tmp_path/'conf.py').read_text(), str(tmp_path/'conf.py'), 'exec'), ns)
    assert (ns['project'], ns['html_title']) == ('My site', 'My site')
    assert ns['extensions'] == ['myst_nb', 'offline_math'] and ns['html_math_renderer'] == 'offline'
    assert sys.path[0] == str((tmp_path/'_ext').resolve())

def test_conf_needs_site_json(tmp_path):
    conf = ROOT/'docs'/'conf.py'
    with pytest.raises(RuntimeError, match='site.json'):
        exec(compile(conf.read_text(), str(conf), 'exec'), {'__file__': str(conf)})

def test_offline_math():
    spec = importlib.util.spec_from_file_location('offline_math', ROOT/'docs'/'_ext'/'offline_math.py')
    om = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(om)
    if om._to_mathml is not None:
        assert om._render('x^2', False).startswith('<math') and 'display="block"' in om._render('x^2', True)
    om._to_mathml = None  # without latex2mathml: the TeX source, escaped
    assert om._render('a<b', False) == '<code class="math-tex">a&lt;b</code>'

# ---------------------------------------------------------------------------------------------------------------
# the checks of the built site

def test_check_offline(tmp_path):
    (tmp_path/'a.html').write_text('<script src="_static/x.js"></script><a href="https://x.org">x</a>')
    (tmp_path/'b.html').write_text('<link rel="stylesheet" href="https://cdn.example/x.css">')
    (tmp_path/'c.html').write_text('<script src="//cdn.example/x.js"></script>')
    assert sorted(bd.check_offline(tmp_path)) == ['b.html', 'c.html']

def test_check_local_links(tmp_path):
    (tmp_path/'sub').mkdir()
    (tmp_path/'index.html').write_text(
        '<h2 id="top">T</h2><a href="#top">t</a><a href="data.html#load_market">d</a>'
        '<a href="sub/">s</a><a href="mailto:a@b.c">m</a><a href="https://x.org/#no">x</a>')
    (tmp_path/'data.html').write_text('<a href="index.html#nope">n</a><a href="gone.html">g</a>'
                                      '<h3 id="load_market">load_market</h3>')
    (tmp_path/'sub'/'index.html').write_text('<a href="../data.html?x=1#load_market">d</a>')
    assert sorted(bd.check_local_links(tmp_path)) == ['data.html -> gone.html', 'data.html -> index.html#nope']
