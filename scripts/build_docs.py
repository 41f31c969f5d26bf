"""Build the offline documentation site into `_docs/` without Quarto.

Usage (from anywhere):  .venv/bin/python scripts/build_docs.py

The one site configuration is the top-level `_quarto.yml` (nbs/_quarto.yml links to it): its `website.title`,
`website.description` and `website.sidebar.contents` give the site title and the ordered list of pages.
Steps:
1. nbdev's own processing (`nbdev.serve.proc_nbs`) of the listed notebooks into `_proc/`: show_doc rendered as
   markdown, `#| hide`/`#| export` directives applied, front matter extracted. Listed notebooks that do not exist
   yet are skipped with a log line.
2. A translation of what is left of Quarto's dialect into MyST/myst-nb (front matter -> title, cell options ->
   cell tags/metadata, link attributes, callouts, links between chapters) into `_build/sphinx_src/`, together with
   a generated `conf.py` and the toctree.
3. Sphinx (myst-nb, furo theme, notebooks not executed: they carry their outputs) with warnings as errors into
   `_build/html`, which then replaces `_docs/`.
With Quarto installed, `nbdev_docs` builds the same site from the same `_quarto.yml`.
"""
import argparse, fcntl, html, json, logging, os, re, shutil, sys, time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT/'_build'
SRC = BUILD/'sphinx_src'
log = logging.getLogger('build_docs')

# ---------------------------------------------------------------------------------------------------------------
# The site configuration, read from _quarto.yml

def _flatten_contents(contents, caption=None):
    "Yield (caption, path) for each page in a Quarto sidebar `contents` list (strings, `href:` items, sections)."
    for item in contents or []:
        if isinstance(item, str): yield caption, item
        elif isinstance(item, dict) and 'href' in item: yield caption, item['href']
        elif isinstance(item, dict) and 'contents' in item:
            yield from _flatten_contents(item['contents'], item.get('section') or item.get('text') or caption)
        elif isinstance(item, dict) and 'section' in item and isinstance(item['section'], str) and '.' in item['section']:
            yield caption, item['section']
        else: log.warning('sidebar entry not understood, skipped: %r', item)

def read_site_config(root=ROOT):
    "Title, description and ordered sidebar pages [(caption, path relative to nbs/)] from the top-level _quarto.yml."
    cfg = yaml.safe_load((root/'_quarto.yml').read_text())
    website = cfg.get('website') or {}
    title = website.get('title')
    if not title: raise SystemExit('_quarto.yml: website.title is missing')
    sidebar = website.get('sidebar') or {}
    if isinstance(sidebar, list): sidebar = sidebar[0] if sidebar else {}
    contents = sidebar.get('contents')
    if not contents or contents == 'auto': raise SystemExit('_quarto.yml: website.sidebar.contents must list the pages')
    pages = list(_flatten_contents(contents))
    return dict(title=str(title), description=str(website.get('description') or ''), pages=pages)

# ---------------------------------------------------------------------------------------------------------------
# Step 1: nbdev processing

def page_name(page):
    "The built page's name (docname) for a notebook path relative to nbs/, as Quarto names it: `00_data.ipynb` -> `data`."
    from nbdev.doclinks import _nbpath2html
    return _nbpath2html(Path(page)).with_suffix('').as_posix()

def run_nbdev_proc(nb_paths, nbs_path):
    "Run nbdev's notebook processing on `nb_paths` (inside `nbs_path`) only; returns the `_proc` folder."
    import nbdev.serve
    names = sorted({p.name for p in nb_paths})
    # skip hidden/underscore files (nbdev's default) and every notebook that is not a listed page
    skip = r'^(?:[_.]|(?!(?:%s)$).*\.ipynb$)' % '|'.join(re.escape(n) for n in names) if names else r'^(?:[_.]|.*\.ipynb$)'
    return Path(nbdev.serve.proc_nbs(path=str(nbs_path), force=True, skip_file_re=skip))

def doc_errors(proc:Path) -> list:
    "Cells of processed notebooks whose rendering (show_doc above all) raised: ['nb: cell source …', …]."
    bad = []
    for nb in sorted(proc.glob('*.ipynb')):
        for c in json.loads(nb.read_text()).get('cells', []):
            for o in c.get('outputs', []):
                text = re.sub(r'\x1b\[[0-9;]*m', '', ''.join(o.get('text', '')))
                if o.get('output_type') == 'error' or 'Traceback (most recent call last)' in text:
                    err = o.get('ename') or next((l for l in reversed(text.splitlines()) if l.strip()), '')
                    bad.append(f"{nb.name}: {''.join(c['source']).splitlines()[-1][:80]} -> {err[:160]}")
    return bad

# ---------------------------------------------------------------------------------------------------------------
# Step 2: Quarto dialect -> MyST / myst-nb

_re_opt = re.compile(r'^\s*#\|\s*([\w-]+)\s*:\s*(.*?)\s*$')
_re_bare_opt = re.compile(r'^\s*#\|\s*([\w-]+)\s*$')

def split_cell_options(source):
    "Split leading Quarto `#| key: value` lines off `source`: (options dict, remaining source)."
    lines, opts = source.splitlines(), {}
    i = 0
    while i < len(lines):
        m = _re_opt.match(lines[i])
        if m:
            k, v = m.groups()
            try: opts[k] = yaml.safe_load(v) if v else True
            except yaml.YAMLError: opts[k] = v
        elif _re_bare_opt.match(lines[i]): opts[_re_bare_opt.match(lines[i]).group(1)] = True
        elif lines[i].strip(): break
        i += 1
    return opts, '\n'.join(lines[i:])

def _false(v): return v is False or str(v).lower() == 'false'

def apply_cell_options(cell):
    "Turn a code cell's Quarto options into myst-nb tags/metadata and strip them from the source."
    opts, cell['source'] = split_cell_options(''.join(cell['source']))
    md, tags = cell.setdefault('metadata', {}), []
    if _false(opts.get('include', True)): tags.append('remove-cell')
    if _false(opts.get('echo', True)): tags.append('remove-input')
    if _false(opts.get('output', True)): tags.append('remove-output')
    if opts.get('code-fold') is True or str(opts.get('code-fold')).lower() == 'true': tags.append('hide-input')
    if opts.get('output') == 'asis':  # printed text is markdown to render, as in Quarto
        cell['outputs'] = [{'output_type': 'display_data', 'metadata': {}, 'data': {'text/markdown': ''.join(o['text'])}}
                           if o.get('output_type') == 'stream' and o.get('name') == 'stdout' else o for o in cell.get('outputs', [])]
    if _false(opts.get('warning', True)):
        cell['outputs'] = [o for o in cell.get('outputs', []) if not (o.get('output_type') == 'stream' and o.get('name') == 'stderr')]
    if not cell['source'].strip() and 'remove-input' not in tags: tags.append('remove-input')
    fig = {}
    if opts.get('fig-cap'): fig['caption'] = str(opts['fig-cap'])
    if opts.get('label'): fig['name'] = str(opts['label'])
    if fig.get('caption'): md.setdefault('mystnb', {})['figure'] = fig
    if opts.get('fig-alt'): md.setdefault('mystnb', {})['image'] = {'alt': str(opts['fig-alt'])}
    if tags: md['tags'] = sorted(set(md.get('tags', [])) | set(tags))
    return cell

_callouts = {'note': 'note', 'tip': 'tip', 'warning': 'warning', 'caution': 'caution', 'important': 'important'}
_re_div_open = re.compile(r'^(:{3,})\s*\{([^}]*)\}\s*$|^(:{3,})\s*([\w-]+)\s*$')
_re_attr_title = re.compile(r'''title\s*=\s*(?:"([^"]*)"|'([^']*)')''')
# link attributes such as [text](url){target="_blank"} or {.external}: keep the link, drop the attributes
_re_link_attrs = re.compile(r'(\]\([^)\s]*(?:\s+"[^"]*")?\))\{[^{}\n]*\}')
# heading ids/classes: "## Title {#sec-x .unnumbered}" -> MyST label "(sec-x)=" above the heading
_re_heading_attrs = re.compile(r'^(#{1,6}\s.*?)\s*\{([^{}]*)\}\s*$')

def translate_markdown(text, links):
    "Translate Quarto markdown (callouts, fenced divs, attributes, links between pages) into MyST."
    out = []
    for line in text.split('\n'):
        m = _re_div_open.match(line)
        if m:
            colons, attrs = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), '.' + m.group(4))
            classes = re.findall(r'(?:^|\s)\.([\w-]+)', attrs)
            callout = next((_callouts[c[len('callout-'):]] for c in classes if c.startswith('callout-') and c[len('callout-'):] in _callouts), None)
            t = _re_attr_title.search(attrs)
            if callout:
                out.append(f'{colons}{{{callout}}}' if not t else f'{colons}{{admonition}} {t.group(1) or t.group(2)}\n:class: {callout}')
            else:
                out.append(f'{colons}{{container}} {" ".join(classes)}'.rstrip())
            continue
        m = _re_heading_attrs.match(line)
        if m and ('#' in m.group(2) or '.' in m.group(2)):
            ids = re.findall(r'#([\w:-]+)', m.group(2))
            if ids: out.append(f'({ids[0]})=')
            line = m.group(1)
        out.append(line)
    text = '\n'.join(out)
    text = _re_link_attrs.sub(r'\1', text)
    return rewrite_links(text, links)

def _link_html(text, href):
    "Inline HTML for a markdown link whose text is `text` (nbdev's links are `name` in backticks)."
    m = re.fullmatch(r'`([^`]*)`', text.strip())
    inner = f'<code>{html.escape(m.group(1))}</code>' if m else html.escape(text)
    return f'<a class="reference internal" href="{html.escape(href)}">{inner}</a>'

class Links:
    "What links between pages need: built pages (source name -> docname), pages not written yet, nbdev's doc URL."
    def __init__(self, pages=None, missing=(), doc_prefix=''): self.pages, self.missing, self.doc_prefix = pages or {}, set(missing), doc_prefix

def _doc_anchor(href):
    "nbdev links methods as `page.html#class.method`; the rendered show_doc heading's id drops the dot (`classmethod`)."
    page, _, frag = href.partition('#')
    return f'{page}#{frag.replace(".", "")}' if frag else page

def rewrite_links(text, links):
    "Point links to other pages (`00_data.ipynb`, nbdev's doc-host links) at the built pages."
    link_map, missing, doc_prefix = links.pages, links.missing, links.doc_prefix
    def _page(m):
        name, anchor = m.group(3), m.group(4) or ''
        if name in missing: return m.group(1)  # a page not written yet: keep the words, drop the link
        if name not in link_map: return m.group(0)
        if anchor:  # anchors may be show_doc headings inside outputs, which MyST cannot resolve: check_local_links does
            return _link_html(m.group(1), _doc_anchor(str(Path(link_map[name]).with_suffix('.html')) + anchor))
        return f'[{m.group(1)}]({link_map[name]})'
    # [text](00_data.ipynb#x) -> [text](data.ipynb#x): MyST resolves it to the page (and checks it exists)
    text = re.sub(r'\[((?:[^\[\]]|\[[^\]]*\])*)\]\((\./)?([\w./-]+\.ipynb)(#[\w.-]*)?\)', _page, text)
    if doc_prefix:
        # nbdev's add_links points at the published site (data.html#load_market); an offline site links to itself.
        # Inline HTML, because show_doc's anchors live in cell outputs, where Sphinx's reference checks do not look.
        text = re.sub(r'\[((?:[^\[\]]|\[[^\]]*\])*)\]\(' + re.escape(doc_prefix) + r'([\w./-]*\.html(?:#[\w.-]*)?)\)',
                      lambda m: _link_html(m.group(1), _doc_anchor(m.group(2))), text)
    return text

def front_matter(cell):
    "Front matter dict of a raw `---` YAML cell, else None."
    if cell['cell_type'] != 'raw': return None
    src = ''.join(cell['source']).strip()
    if not (src.startswith('---') and src.endswith('---')): return None
    try: d = yaml.safe_load(src.strip('-').strip())
    except yaml.YAMLError: return None
    return d if isinstance(d, dict) else None

def translate_notebook(nb, fallback_title, links, extra_cells=()):
    "Translate one nbdev-processed notebook (dict) for myst-nb, in place; returns its front matter."
    fm, cells = {}, []
    for cell in nb['cells']:
        d = front_matter(cell)
        if d is not None and not fm:
            fm = d
            continue
        if cell['cell_type'] == 'markdown':
            src = ''.join(cell['source'])
            if src.strip().startswith('<!-- WARNING: THIS FILE WAS AUTOGENERATED'): continue
            cell['source'] = translate_markdown(src, links)
        elif cell['cell_type'] == 'code':
            apply_cell_options(cell)
            for o in cell.get('outputs', []):
                data = o.get('data') or {}
                if 'text/markdown' in data:
                    md = ''.join(data['text/markdown'])
                    # show_doc output opens with a rule ("---"): a rule may not start a nested document in docutils
                    md = re.sub(r'\A\s*---\s*\n', '', md)
                    data['text/markdown'] = rewrite_links(_re_link_attrs.sub(r'\1', md), links)
        elif cell['cell_type'] == 'raw':
            log.info('raw cell dropped (not rendered by Quarto either unless it targets html)')
            continue
        cells.append(cell)
    title = fm.get('title') or fallback_title
    head = f'# {title}\n'
    if fm.get('description'): head += f'\n> {fm["description"]}\n'
    nb['cells'] = [{'cell_type': 'markdown', 'metadata': {}, 'source': head}] + cells + list(extra_cells)
    nb.setdefault('metadata', {}).pop('widgets', None)
    for i, c in enumerate(nb['cells']):  # drop nbdev's working attributes (has_sd, idx_, ...): keep valid nbformat 4.5
        for k in list(c):
            if k not in _cell_keys[c['cell_type']]: del c[k]
        c.setdefault('id', f'cell-{i}')
        if c['cell_type'] == 'code': c.setdefault('execution_count', None); c.setdefault('outputs', [])
    nb['nbformat'], nb['nbformat_minor'] = 4, max(5, nb.get('nbformat_minor', 5))
    return fm

_cell_keys = {'code': {'id', 'cell_type', 'metadata', 'source', 'outputs', 'execution_count'},
              'markdown': {'id', 'cell_type', 'metadata', 'source', 'attachments'},
              'raw': {'id', 'cell_type', 'metadata', 'source', 'attachments'}}

def toctree_markdown(entries):
    "MyST toctree block(s) for [(caption, docname)], grouped by consecutive caption."
    blocks, cur_cap, cur = [], object(), []
    def flush():
        if cur:
            cap = f':caption: {cur_cap}\n' if cur_cap else ''
            blocks.append('```{toctree}\n:hidden:\n:maxdepth: 1\n' + cap + '\n' + '\n'.join(cur) + '\n```')
    for cap, doc in entries:
        if cap != cur_cap: flush(); cur_cap, cur = cap, []
        cur.append(doc)
    flush()
    return '\n\n'.join(blocks)

CONF_PY = '''\
# Generated by scripts/build_docs.py from _quarto.yml: do not edit (edit _quarto.yml instead).
import sys
sys.path.insert(0, {ext_dir!r})
project = {title!r}
html_title = {title!r}
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
html_copy_source = False
html_show_copyright = False
suppress_warnings = ['myst.header']  # show_doc's headings start at H3
'''

# A math renderer that needs no network: MathML from latex2mathml when installed, else the TeX source as text.
OFFLINE_MATH = '''\
"Render math without JavaScript from a CDN (generated by scripts/build_docs.py)."
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
    app.add_html_math_renderer('offline', inline_renderers=(visit_math, None), block_renderers=(visit_displaymath, None))
    return {'parallel_read_safe': True, 'parallel_write_safe': True}
'''

class BuildError(Exception): "The site cannot be built; the message says why."

def prepare_sources(site, root=ROOT, src=SRC):
    "Process and translate the listed pages into `src` with a generated conf.py; returns [(caption, docname)]."
    from nbdev.config import get_config
    cfg = get_config()
    nbs_path = Path(cfg.config_path)/cfg.nbs_path
    doc_prefix = (cfg.get('doc_host', '') + cfg.get('doc_baseurl', '')).rstrip('/') + '/' if cfg.get('doc_host') else ''
    existing, skipped = [], []
    for cap, page in site['pages']:
        p = nbs_path/page
        if p.suffix not in ('.ipynb', '.md', '.qmd'): log.warning('page type not supported, skipped: %s', page); continue
        (existing if p.exists() else skipped).append((cap, p))
    for _, p in skipped: log.info('skipped (not written yet): %s', p.relative_to(root))
    if src.exists(): shutil.rmtree(src)
    src.mkdir(parents=True)
    # page docname = Quarto's output name (00_data.ipynb -> data.html), so links keep working on both sites
    docname = {p: page_name(p.relative_to(nbs_path)) for _, p in existing}
    links = Links({p.relative_to(nbs_path).as_posix(): docname[p] + p.suffix for _, p in existing},
                  {p.relative_to(nbs_path).as_posix() for _, p in skipped}, doc_prefix)
    nb_pages = [p for _, p in existing if p.suffix == '.ipynb']
    try: proc = run_nbdev_proc(nb_pages, nbs_path) if nb_pages else None
    except Exception as e:
        cause = re.search(r'^\w*(?:Error|Exception): .*$', str(e.__cause__ or ''), re.M)  # the cell's own error
        raise BuildError(f'nbdev could not process the notebooks:\n{e}\n' + (f'-> {cause.group(0)}\n' if cause else '') +
                         'To render show_doc, nbdev runs every exported cell, every show_doc cell and every cell with an '
                         'import statement; a cell that mixes imports with other code must work on its own '
                         '(better: keep imports in a cell of their own).') from e
    # other files that pages may reference (images next to the notebooks): copied as processed by nbdev
    if proc:
        for f in proc.rglob('*'):
            if f.is_file() and f.suffix not in ('.ipynb', '.yml', '.qmd', '.md'):
                (src/f.relative_to(proc)).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(f, src/f.relative_to(proc))
    toc = [(cap, docname[p]) for cap, p in existing if docname[p] != 'index']
    toc_cell = {'cell_type': 'markdown', 'metadata': {}, 'source': toctree_markdown(toc)} if toc else None
    for _, p in existing:
        rel = p.relative_to(nbs_path)
        dst = src/(docname[p] + ('.ipynb' if p.suffix == '.ipynb' else '.md'))
        dst.parent.mkdir(parents=True, exist_ok=True)
        extra = [toc_cell] if docname[p] == 'index' and toc_cell else []
        if p.suffix == '.ipynb':
            nb = json.loads((proc/rel).read_text())
            translate_notebook(nb, rel.stem, links, extra)
            dst.write_text(json.dumps(nb, indent=1))
        else:
            text = p.read_text()
            m = re.match(r'\A---\n(.*?)\n---\n', text, re.S)
            fm = yaml.safe_load(m.group(1)) if m else {}
            body = text[m.end():] if m else text
            head = f'# {fm.get("title", rel.stem)}\n\n' + (f'> {fm["description"]}\n\n' if fm.get('description') else '')
            dst.write_text(head + translate_markdown(body, links) + ''.join('\n\n' + c['source'] for c in extra))
    if 'index' not in docname.values():
        # no index page yet: a generated front page with the site's title, description and the toctree
        head = f'# {site["title"]}\n\n' + (f'{site["description"]}\n\n' if site['description'] else '')
        (src/'index.md').write_text(head + (toctree_markdown(toc) if toc else ''))
    ext_dir = src/'_ext'
    ext_dir.mkdir()
    (ext_dir/'offline_math.py').write_text(OFFLINE_MATH)
    (src/'conf.py').write_text(CONF_PY.format(title=site['title'], ext_dir=str(ext_dir)))
    return toc

# ---------------------------------------------------------------------------------------------------------------
# Step 3: Sphinx

def run_sphinx(src=SRC, out_html=BUILD/'html', strict=True):
    "Build `src` with Sphinx into `out_html`; returns Sphinx's exit status."
    from sphinx.cmd.build import build_main
    if out_html.exists(): shutil.rmtree(out_html)
    args = ['-b', 'html', '-E', '-q', '-d', str(BUILD/'doctrees')]
    if strict: args += ['-W', '--keep-going']
    return build_main(args + [str(src), str(out_html)])

_re_external_asset = re.compile(r'<(?:script|link)\b[^>]*\b(?:src|href)\s*=\s*["\'](?:https?:)?//', re.I)

def check_offline(site_dir):
    "Pages that load scripts or stylesheets from another host."
    return [str(f.relative_to(site_dir)) for f in site_dir.rglob('*.html') if _re_external_asset.search(f.read_text(errors='replace'))]

_re_href = re.compile(r'<a\b[^>]*\bhref="([^"]*)"', re.I)
_re_id = re.compile(r'\bid="([^"]*)"')

def check_local_links(site_dir):
    "Links between pages of the site whose page or anchor does not exist: ['page.html -> target', ...]."
    bad, ids = [], {}
    def _ids(f):
        if f not in ids: ids[f] = set(_re_id.findall(f.read_text(errors='replace')))
        return ids[f]
    for f in sorted(site_dir.rglob('*.html')):
        for href in set(_re_href.findall(f.read_text(errors='replace'))):
            href = html.unescape(href)
            if re.match(r'^[a-z][\w+.-]*:|^//', href, re.I): continue  # another site, mailto:, ...
            path, _, frag = href.partition('#')
            target = (f.parent/path.split('?')[0]).resolve() if path else f
            if target.is_dir(): target = target/'index.html'
            if not target.exists() or (frag and target.suffix == '.html' and frag not in _ids(target)):
                bad.append(f'{f.relative_to(site_dir)} -> {href}')
    return bad

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--no-strict', action='store_true', help='do not turn Sphinx warnings into errors')
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format='build_docs: %(message)s')
    t0 = time.time()
    os.chdir(ROOT)  # nbdev finds settings.ini from the working directory
    BUILD.mkdir(exist_ok=True)
    with open(BUILD/'build.lock', 'w') as lock:  # one build at a time (they share _proc/ and _build/)
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _build(args, t0)

def _build(args, t0):
    site = read_site_config(ROOT)
    try: toc = prepare_sources(site)
    except BuildError as e:
        log.error('%s', e)
        return 1
    errs = doc_errors(ROOT/'_proc') if (ROOT/'_proc').is_dir() else []
    if errs: log.error('rendering raised in:\n  %s', '\n  '.join(errs)); return 1
    log.info('sources ready in %.1f s (%d pages besides index)', time.time() - t0, len(toc))
    status = run_sphinx(strict=not args.no_strict)
    if status: log.error('sphinx failed (status %s); see the messages above', status); return status
    bad = check_offline(BUILD/'html')
    if bad: log.error('pages load scripts/styles from other hosts: %s', bad); return 1
    broken = check_local_links(BUILD/'html')
    if broken: log.error('broken links inside the site:\n  %s', '\n  '.join(broken)); return 1
    docs = ROOT/'_docs'
    if docs.exists(): shutil.rmtree(docs)
    os.replace(BUILD/'html', docs)
    log.info('site built in %s in %.1f s', docs.relative_to(ROOT), time.time() - t0)
    return 0

if __name__ == '__main__': sys.exit(main())
