"""Build the offline documentation site into `_docs/` without Quarto.

Usage (from anywhere):  .venv/bin/python scripts/build_docs.py

The one site configuration is the top-level `_quarto.yml` (nbs/_quarto.yml links to it): its `website.title`,
`website.description` and `website.sidebar.contents` give the site title and the ordered list of pages.
Steps:
1. nbdev's own processing (`nbdev.serve.proc_nbs`) of the listed notebooks into `_proc/`: show_doc rendered as
   markdown, `#| hide`/`#| export` directives applied, front matter extracted. Listed notebooks that do not exist
   yet are skipped with a log line; notebooks that exist but are not listed are not on the site either (links to
   them keep their words only).
2. A translation of what is left of Quarto's dialect into MyST/myst-nb (front matter -> title, cell options ->
   cell tags/metadata, link attributes, callouts, links between chapters) into `_build/sphinx_src/`, together with
   the toctree and the Sphinx project's own files, kept as real files in `docs/` (`conf.py`, which reads the
   `site.json` written beside it, and the `_ext/` extensions). The translation is small pure functions, unit-tested
   in tests/test_build_docs.py.
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
TEMPLATE = ROOT/'docs'  # the Sphinx project's own files: conf.py, extensions
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
        elif isinstance(item, dict) and isinstance(item.get('section'), str) and '.' in item['section']:
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
    "The built page's name (docname) of a notebook path relative to nbs/, as Quarto's: `00_data.ipynb` -> `data`."
    from nbdev.doclinks import _nbpath2html
    return _nbpath2html(Path(page)).with_suffix('').as_posix()

def run_nbdev_proc(nb_paths, nbs_path):
    "Run nbdev's notebook processing on `nb_paths` (inside `nbs_path`) only; returns the `_proc` folder."
    import nbdev.serve
    names = sorted({p.name for p in nb_paths})
    # skip hidden/underscore files (nbdev's default) and every notebook that is not a listed page
    alt = '|'.join(re.escape(n) for n in names)
    skip = r'^(?:[_.]|(?!(?:%s)$).*\.ipynb$)' % alt if names else r'^(?:[_.]|.*\.ipynb$)'
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
# Step 2: Quarto dialect -> MyST / myst-nb, as small pure functions (tests/test_build_docs.py)

# -- front matter -> title

def front_matter(cell):
    "Front matter dict of a raw `---` YAML cell, else None."
    if cell['cell_type'] != 'raw': return None
    src = ''.join(cell['source']).strip()
    if not (src.startswith('---') and src.endswith('---')): return None
    try: d = yaml.safe_load(src.strip('-').strip())
    except yaml.YAMLError: return None
    return d if isinstance(d, dict) else None

def md_front_matter(text):
    "Split a markdown page's leading `---` YAML block off: (front matter dict, body)."
    m = re.match(r'\A---\n(.*?)\n---\n', text, re.S)
    if not m: return {}, text
    try: fm = yaml.safe_load(m.group(1))
    except yaml.YAMLError: return {}, text
    return (fm if isinstance(fm, dict) else {}), text[m.end():]

def title_markdown(fm, fallback):
    "The page's H1 from front matter `title` (else `fallback`) and its `description` as a `>` summary line."
    head = f'# {fm.get("title") or fallback}\n'
    if fm.get('description'): head += f'\n> {fm["description"]}\n'
    return head

# -- cell options -> tags and metadata

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

def cell_tags(opts, source):
    "myst-nb tags for a code cell's options (`include`, `echo`, `output`, `code-fold`) and its remaining `source`."
    tags = []
    if _false(opts.get('include', True)): tags.append('remove-cell')
    if _false(opts.get('echo', True)) or not source.strip(): tags.append('remove-input')
    if _false(opts.get('output', True)): tags.append('remove-output')
    if opts.get('code-fold') is True or str(opts.get('code-fold')).lower() == 'true': tags.append('hide-input')
    return tags

def cell_figure(opts):
    "myst-nb's `mystnb` cell metadata for `fig-cap` (with `label` as the figure's name) and `fig-alt`."
    mystnb, fig = {}, {}
    if opts.get('fig-cap'): fig['caption'] = str(opts['fig-cap'])
    if opts.get('label'): fig['name'] = str(opts['label'])
    if fig.get('caption'): mystnb['figure'] = fig
    if opts.get('fig-alt'): mystnb['image'] = {'alt': str(opts['fig-alt'])}
    return mystnb

def _stream(o, name): return o.get('output_type') == 'stream' and o.get('name') == name

def cell_outputs(opts, outputs):
    "Outputs as the options ask: printed text rendered as markdown (`output: asis`), stderr dropped (`warning: false`)."
    if opts.get('output') == 'asis':
        outputs = [{'output_type': 'display_data', 'metadata': {}, 'data': {'text/markdown': ''.join(o['text'])}}
                   if _stream(o, 'stdout') else o for o in outputs]
    if _false(opts.get('warning', True)): outputs = [o for o in outputs if not _stream(o, 'stderr')]
    return outputs

def apply_cell_options(cell):
    "Turn a code cell's Quarto options into myst-nb tags/metadata and strip them from the source."
    opts, cell['source'] = split_cell_options(''.join(cell['source']))
    md = cell.setdefault('metadata', {})
    if 'outputs' in cell: cell['outputs'] = cell_outputs(opts, cell['outputs'])
    mystnb = cell_figure(opts)
    if mystnb: md.setdefault('mystnb', {}).update(mystnb)
    tags = cell_tags(opts, cell['source'])
    if tags: md['tags'] = sorted(set(md.get('tags', [])) | set(tags))
    return cell

# -- markdown: callouts and fenced divs, heading and link attributes

_callouts = {'note': 'note', 'tip': 'tip', 'warning': 'warning', 'caution': 'caution', 'important': 'important'}
_re_div_open = re.compile(r'^(:{3,})\s*\{([^}]*)\}\s*$|^(:{3,})\s*([\w-]+)\s*$')
_re_attr_title = re.compile(r'''title\s*=\s*(?:"([^"]*)"|'([^']*)')''')
# link attributes such as [text](url){target="_blank"} or {.external}: keep the link, drop the attributes
_re_link_attrs = re.compile(r'(\]\([^)\s]*(?:\s+"[^"]*")?\))\{[^{}\n]*\}')
# heading ids/classes: "## Title {#sec-x .unnumbered}" -> MyST label "(sec-x)=" above the heading
_re_heading_attrs = re.compile(r'^(#{1,6}\s.*?)\s*\{([^{}]*)\}\s*$')
_re_code_fence = re.compile(r'^\s*(`{3,}|~{3,})')

def translate_div(line):
    "MyST for a Quarto fenced-div opening line (`::: {.callout-tip title=\"T\"}`, `::: name`), else None."
    m = _re_div_open.match(line)
    if not m: return None
    colons, attrs = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), '.' + m.group(4))
    classes = re.findall(r'(?:^|\s)\.([\w-]+)', attrs)
    kinds = [c[len('callout-'):] for c in classes if c.startswith('callout-')]
    callout = next((_callouts[k] for k in kinds if k in _callouts), None)
    if not callout: return f'{colons}{{container}} {" ".join(classes)}'.rstrip()
    t = _re_attr_title.search(attrs)
    return f'{colons}{{admonition}} {t.group(1) or t.group(2)}\n:class: {callout}' if t else f'{colons}{{{callout}}}'

def translate_heading(line):
    "A heading's `{#id .class}` attributes dropped, its first id kept as a MyST label line above it: [lines]."
    m = _re_heading_attrs.match(line)
    if not (m and ('#' in m.group(2) or '.' in m.group(2))): return [line]
    ids = re.findall(r'#([\w:-]+)', m.group(2))
    return ([f'({ids[0]})='] if ids else []) + [m.group(1)]

def strip_link_attrs(text):
    "Pandoc attributes after links dropped, the links kept: `[t](u){target=\"_blank\"}` -> `[t](u)`."
    return _re_link_attrs.sub(r'\1', text)

def translate_markdown(text, links):
    "Translate Quarto markdown (callouts, fenced divs, attributes, links between pages) into MyST."
    out, fence = [], None
    for line in text.split('\n'):
        if fence:  # inside a code block: kept as written, up to its closing fence
            if re.fullmatch(rf'\s*{re.escape(fence[0])}{{{len(fence)},}}\s*', line): fence = None
            out.append(line)
        elif m := _re_code_fence.match(line):
            fence = m.group(1)
            out.append(line)
        elif (div := translate_div(line)) is not None: out.append(div)
        else: out.extend(translate_heading(line))
    return rewrite_links(strip_link_attrs('\n'.join(out)), links)

# -- links between chapters and to nbdev's doc pages

def _link_html(text, href):
    "Inline HTML for a markdown link whose text is `text` (nbdev's links are `name` in backticks)."
    m = re.fullmatch(r'`([^`]*)`', text.strip())
    inner = f'<code>{html.escape(m.group(1))}</code>' if m else html.escape(text)
    return f'<a class="reference internal" href="{html.escape(href)}">{inner}</a>'

class Links:
    "What links between pages need: built pages (source -> docname + suffix), pages not on the site, nbdev's doc URL."
    def __init__(self, pages=None, missing=(), doc_prefix=''):
        self.pages, self.missing, self.doc_prefix = pages or {}, set(missing), doc_prefix
        self.missing_html = {page_name(p) + '.html' for p in self.missing}  # their names on the published site

def _doc_anchor(href):
    "nbdev links methods as `page.html#class.method`; the rendered show_doc heading's id drops the dot (`classmethod`)."
    page, _, frag = href.partition('#')
    return f'{page}#{frag.replace(".", "")}' if frag else page

_re_link_text = r'\[((?:[^\[\]]|\[[^\]]*\])*)\]'

def rewrite_links(text, links):
    "Point links to other pages (`00_data.ipynb`, nbdev's doc-host links) at the built pages."
    link_map, doc_prefix = links.pages, links.doc_prefix
    def _page(m):
        name, anchor = m.group(3), m.group(4) or ''
        if name in links.missing: return m.group(1)  # a page not on the site: keep the words, drop the link
        if name not in link_map: return m.group(0)
        if anchor:  # anchors may be show_doc headings inside outputs, which MyST cannot resolve: check_local_links does
            return _link_html(m.group(1), _doc_anchor(str(Path(link_map[name]).with_suffix('.html')) + anchor))
        return f'[{m.group(1)}]({link_map[name]})'
    # [text](00_data.ipynb#x) -> [text](data.ipynb#x): MyST resolves it to the page (and checks it exists)
    text = re.sub(_re_link_text + r'\((\./)?([\w./-]+\.ipynb)(#[\w.-]*)?\)', _page, text)
    if doc_prefix:
        # nbdev's add_links points at the published site (data.html#load_market); an offline site links to itself.
        # Inline HTML, because show_doc's anchors live in cell outputs, where Sphinx's reference checks do not look.
        # Names documented on a page that is not on this site (a notebook not listed yet) keep their words only.
        def _doc(m):
            if m.group(2).partition('#')[0] in links.missing_html: return m.group(1)
            return _link_html(m.group(1), _doc_anchor(m.group(2)))
        text = re.sub(_re_link_text + r'\(' + re.escape(doc_prefix) + r'([\w./-]*\.html(?:#[\w.-]*)?)\)', _doc, text)
    return text

# -- notebooks and markdown pages

_AUTOGEN = '<!-- WARNING: THIS FILE WAS AUTOGENERATED'

def translate_doc_output(md, links):
    "A markdown output (show_doc's) for MyST: no opening rule, no link attributes, links pointed at the built pages."
    # show_doc output opens with a rule ("---"): a rule may not start a nested document in docutils
    md = strip_link_attrs(re.sub(r'\A\s*---\s*\n', '', md))
    # nbdev links the names in a signature's comments too; inside a code block a link would show as raw HTML, so
    # there the name keeps its words (and backticks) only
    parts = re.split(r'(^```[^\n]*\n.*?^```[ \t]*$)', md, flags=re.S | re.M)
    return ''.join(re.sub(_re_link_text + r'\([^()\s]*\)', r'\1', part) if i % 2 else rewrite_links(part, links)
                   for i, part in enumerate(parts))

def translate_cell(cell, links):
    "One nbdev-processed cell translated for myst-nb, in place; None for a cell the site does not show."
    if cell['cell_type'] == 'markdown':
        src = ''.join(cell['source'])
        if src.strip().startswith(_AUTOGEN): return None
        cell['source'] = translate_markdown(src, links)
    elif cell['cell_type'] == 'code':
        apply_cell_options(cell)
        for o in cell.get('outputs', []):
            data = o.get('data') or {}
            if 'text/markdown' in data:
                data['text/markdown'] = translate_doc_output(''.join(data['text/markdown']), links)
    elif cell['cell_type'] == 'raw':
        log.info('raw cell dropped (not rendered by Quarto either unless it targets html)')
        return None
    return cell

_cell_keys = {'code': {'id', 'cell_type', 'metadata', 'source', 'outputs', 'execution_count'},
              'markdown': {'id', 'cell_type', 'metadata', 'source', 'attachments'},
              'raw': {'id', 'cell_type', 'metadata', 'source', 'attachments'}}

def nbformat_cell(cell, i):
    "The i-th cell as valid nbformat 4.5, in place: nbdev's working keys (has_sd, idx_, …) dropped, id set."
    for k in list(cell):
        if k not in _cell_keys[cell['cell_type']]: del cell[k]
    cell.setdefault('id', f'cell-{i}')
    if cell['cell_type'] == 'code': cell.setdefault('execution_count', None); cell.setdefault('outputs', [])
    return cell

def translate_notebook(nb, fallback_title, links, extra_cells=()):
    "Translate one nbdev-processed notebook (dict) for myst-nb, in place; returns its front matter."
    fm, cells = {}, []
    for cell in nb['cells']:
        d = front_matter(cell)
        if d is not None and not fm:
            fm = d
            continue
        if translate_cell(cell, links) is not None: cells.append(cell)
    head = {'cell_type': 'markdown', 'metadata': {}, 'source': title_markdown(fm, fallback_title)}
    nb['cells'] = [nbformat_cell(c, i) for i, c in enumerate([head] + cells + list(extra_cells))]
    nb.setdefault('metadata', {}).pop('widgets', None)
    nb['nbformat'], nb['nbformat_minor'] = 4, max(5, nb.get('nbformat_minor', 5))
    return fm

def translate_md_page(text, fallback_title, links, extra=()):
    "A markdown/qmd page for MyST: its front matter as the title, its body translated, then the `extra` blocks."
    fm, body = md_front_matter(text)
    body = translate_markdown(body, links) + ''.join('\n\n' + e for e in extra)
    return title_markdown(fm, fallback_title) + '\n' + body

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

def index_markdown(site, toc):
    "A front page for a site without an index page: its title, its description and the toctree."
    head = f'# {site["title"]}\n\n' + (f'{site["description"]}\n\n' if site['description'] else '')
    return head + (toctree_markdown(toc) if toc else '')

# -- the Sphinx project around the pages: docs/ (conf.py, extensions) and the settings it reads

def write_sphinx_files(site, src=SRC, template=TEMPLATE):
    "Copy the Sphinx files of `template` (docs/: conf.py, _ext/, ...) into `src`, with `site.json` for conf.py."
    shutil.copytree(template, src, dirs_exist_ok=True, ignore=shutil.ignore_patterns('__pycache__', '*.pyc', '.*'))
    (src/'site.json').write_text(json.dumps({'title': site['title']}, indent=1) + '\n')

def unlisted_pages(nbs_path, listed):
    "Notebooks in `nbs_path` (relative posix paths) that exist but are not listed pages: not on the site."
    found = {p.relative_to(nbs_path).as_posix() for p in nbs_path.rglob('*.ipynb')
             if not any(part.startswith(('.', '_')) for part in p.relative_to(nbs_path).parts)}
    return found - set(listed)

class BuildError(Exception): "The site cannot be built; the message says why."

def prepare_sources(site, root=ROOT, src=SRC):
    "Process and translate the listed pages into `src` with docs/'s conf.py; returns [(caption, docname)]."
    from nbdev.config import get_config
    cfg = get_config()
    nbs_path = Path(cfg.config_path)/cfg.nbs_path
    doc_prefix = (cfg.get('doc_host', '') + cfg.get('doc_baseurl', '')).rstrip('/') + '/' if cfg.get('doc_host') else ''
    existing, skipped = [], []
    for cap, page in site['pages']:
        p = nbs_path/page
        if p.suffix not in ('.ipynb', '.md', '.qmd'):
            log.warning('page type not supported, skipped: %s', page)
            continue
        (existing if p.exists() else skipped).append((cap, p))
    for _, p in skipped: log.info('skipped (not written yet): %s', p.relative_to(root))
    unlisted = unlisted_pages(nbs_path, [page for _, page in site['pages']])
    if unlisted: log.info('not listed in _quarto.yml, so not on the site: %s', ', '.join(sorted(unlisted)))
    if src.exists(): shutil.rmtree(src)
    src.mkdir(parents=True)
    # page docname = Quarto's output name (00_data.ipynb -> data.html), so links keep working on both sites
    docname = {p: page_name(p.relative_to(nbs_path)) for _, p in existing}
    links = Links({p.relative_to(nbs_path).as_posix(): docname[p] + p.suffix for _, p in existing},
                  {p.relative_to(nbs_path).as_posix() for _, p in skipped} | unlisted, doc_prefix)
    nb_pages = [p for _, p in existing if p.suffix == '.ipynb']
    try: proc = run_nbdev_proc(nb_pages, nbs_path) if nb_pages else None
    except Exception as e:
        cause = re.search(r'^\w*(?:Error|Exception): .*$', str(e.__cause__ or ''), re.M)  # the cell's own error
        raise BuildError(f'nbdev could not process the notebooks:\n{e}\n' + (f'-> {cause.group(0)}\n' if cause else '')
                         + 'To render show_doc, nbdev runs every exported cell, every show_doc cell and every cell '
                         'with an import statement; a cell that mixes imports with other code must work on its own '
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
        else: dst.write_text(translate_md_page(p.read_text(), rel.stem, links, [c['source'] for c in extra]))
    # no index page yet: a generated front page with the site's title, description and the toctree
    if 'index' not in docname.values(): (src/'index.md').write_text(index_markdown(site, toc))
    write_sphinx_files(site, src)
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
    return [str(f.relative_to(site_dir)) for f in site_dir.rglob('*.html')
            if _re_external_asset.search(f.read_text(errors='replace'))]

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
