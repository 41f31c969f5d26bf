"""The offline documentation site (`scripts/build_docs.py` -> `_docs/`), checked in a real browser.

The site is built once per session (or reused as it is with DEEPREGIME_SITE_BUILT=1), served from 127.0.0.1 on a
free port, and driven with Playwright through Debian's /usr/bin/chromium. Without that browser the browser tests
skip, except under CI (CI=true), where a missing browser is a failure.
"""
import functools, http.server, importlib.util, os, re, subprocess, sys, threading, time
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT/'_docs'
CHROMIUM = '/usr/bin/chromium'
CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
                 '--disable-component-update', '--disable-sync']
IN_CI = os.environ.get('CI', '').lower() == 'true'

# (notebook in nbs/, least number of plot images its page must show): each chapter adds or edits its line.
# A chapter whose notebook is not written yet (or not listed in _quarto.yml) is skipped.
PLOT_PAGES = [
    ('index.ipynb', 1),
    ('00_data.ipynb', 1),
    ('00a_utils.ipynb', 0),
    ('00b_checks.ipynb', 0),
    ('00c_splits.ipynb', 0),
    ('00d_parallel.ipynb', 0),
    ('01_features.ipynb', 1),
    ('01a_detectors.ipynb', 0),
    ('01b_feature_sets.ipynb', 0),
    ('01c_targets.ipynb', 0),
    ('01d_volatility.ipynb', 0),
    ('02_labels.ipynb', 1),
    ('02a_labeller.ipynb', 0),
    ('02b_kmeans.ipynb', 0),
    ('02c_gmm.ipynb', 0),
    ('02d_baselines.ipynb', 1),  # the four baselines' stress days, 2004-2008
    ('02e_hmm.ipynb', 0),
    ('02f_jump.ipynb', 0),
    ('02g_rules.ipynb', 0),
    ('02h_forecasters.ipynb', 0),
    ('02i_registry.ipynb', 0),
    ('03_model.ipynb', 0),
    ('03a_stacked.ipynb', 0),
    ('04_training.ipynb', 1),
    ('04a_dataset.ipynb', 0),
    ('04b_regime_model.ipynb', 0),
    ('04c_evaluate.ipynb', 0),
    ('04d_inference.ipynb', 0),
    ('04e_forecaster.ipynb', 0),
    ('04f_batched.ipynb', 0),
    ('05_backtest.ipynb', 6),  # regime predictions and equity: labels stand-in, seed and honest protocol
    ('05a_strategies.ipynb', 0),
    ('05b_engine.ipynb', 0),
    ('05c_metrics.ipynb', 0),
    ('05d_stats.ipynb', 0),
    ('05e_report.ipynb', 0),
    ('05f_experiments.ipynb', 0),
    ('05g_scores.ipynb', 0),
    ('06_walkforward.ipynb', 2),  # equity curves and drawdowns of the full stored run
    ('06a_config.ipynb', 0),
    ('06b_folds.ipynb', 0),
    ('06c_cache.ipynb', 0),
    ('06ca_nested_search.ipynb', 0),
    ('06d_methods.ipynb', 0),
    ('06e_runner.ipynb', 0),
    ('06f_compare.ipynb', 0),
    ('06g_walkforward_report.ipynb', 2),  # equity curves and drawdowns of the short run
    ('06h_main.ipynb', 0),
    ('07_forecasting.ipynb', 2),  # skill per year and the reliability diagram of the stored full run
    ('07a_forecast_skill.ipynb', 0),
    ('08_allocation.ipynb', 2),  # equity and stacked weights of the stored full run
    ('08a_multi_asset.ipynb', 0),
    ('08b_allocators.ipynb', 0),
    ('09_cli.ipynb', 1),  # the last year with stress shaded (deepregime now)
    ('09a_tearsheet.ipynb', 0),
]
HIDDEN = re.compile(r'^#\|\s*(hide|include:\s*false|output:\s*false)\s*$', re.M)

def stored_plots(nb):
    "Number of PNG outputs the notebook stores in cells the site shows: each must appear on its page."
    import json
    cells = json.loads((ROOT/'nbs'/nb).read_text())['cells']
    return sum('image/png' in o.get('data', {}) for c in cells if c['cell_type'] == 'code'
               and not HIDDEN.search(''.join(c['source'])) for o in c.get('outputs', []))

def _load_build_docs():
    "The build script as a module (its work runs only under __main__), for the site config and page names."
    spec = importlib.util.spec_from_file_location('build_docs', ROOT/'scripts'/'build_docs.py')
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod

build_docs = _load_build_docs()
SITE = build_docs.read_site_config(ROOT)
LISTED = [page for _, page in SITE['pages']]

def page_url(base, nb):
    return f"{base}/{build_docs.page_name(nb)}.html"

@pytest.fixture(scope='session')
def site():
    "The built site folder: built here once, or reused with DEEPREGIME_SITE_BUILT=1."
    if os.environ.get('DEEPREGIME_SITE_BUILT') == '1':
        if not (DOCS/'index.html').exists(): pytest.fail(f'DEEPREGIME_SITE_BUILT=1 but {DOCS}/index.html is missing')
        return DOCS
    t0 = time.time()
    res = subprocess.run([sys.executable, str(ROOT/'scripts'/'build_docs.py')], cwd=ROOT, capture_output=True,
                         text=True, timeout=600)
    assert res.returncode == 0, f'site build failed ({res.returncode}):\n{res.stdout}\n{res.stderr}'
    warned = [l for l in (res.stdout + res.stderr).splitlines() if 'warn' in l.lower()]
    assert not warned, 'the site build warned:\n' + '\n'.join(warned[:20])
    print(f'site built in {time.time()-t0:.1f} s')
    return DOCS

class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args): pass

@pytest.fixture(scope='session')
def server(site):
    "Base URL of `site` served over http on 127.0.0.1 (a free port chosen by the OS)."
    httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(_QuietHandler, directory=str(site)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f'http://127.0.0.1:{httpd.server_address[1]}'
    httpd.shutdown()
    httpd.server_close()

def _no_browser(msg):
    if IN_CI: pytest.fail(f'{msg} (CI=true: the browser checks must run)')
    pytest.skip(f'{msg}: browser checks skipped (install with `apt-get install -y chromium`)')

@pytest.fixture(scope='session')
def browser(tmp_path_factory):
    if not Path(CHROMIUM).exists(): _no_browser(f'{CHROMIUM} not found')
    try: from playwright.sync_api import sync_playwright
    except ImportError: _no_browser('playwright is not installed')
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()

@pytest.fixture
def page(browser, server):
    "A fresh page that records requests to other hosts and JavaScript errors (checked at the end of each test)."
    ctx = browser.new_context(viewport={'width': 1280, 'height': 900})
    pg = ctx.new_page()
    pg.set_default_timeout(15_000)
    pg.foreign_requests, pg.js_errors = [], []
    host = urlparse(server).netloc
    pg.on('request', lambda r: pg.foreign_requests.append(r.url)
          if urlparse(r.url).scheme in ('http', 'https') and urlparse(r.url).netloc != host else None)
    pg.on('pageerror', lambda e: pg.js_errors.append(str(e)))
    yield pg
    ctx.close()
    assert not pg.foreign_requests, f'the site asked other hosts: {pg.foreign_requests}'
    assert not pg.js_errors, f'JavaScript errors: {pg.js_errors}'

def _images(pg):
    "[(src, naturalWidth, is a cell output)] of every <img> on the page, after it has loaded."
    pg.wait_for_load_state('load')
    return pg.eval_on_selector_all(
        'img', 'els => els.map(e => [e.getAttribute("src"), e.complete ? e.naturalWidth : 0, !!e.closest(".cell_output")])')

def test_site_is_offline(site):
    "No page loads a script or stylesheet from another host (no CDN), and links between pages land on real anchors."
    assert (site/'index.html').exists()
    assert build_docs.check_offline(site) == []
    assert build_docs.check_local_links(site) == []

def test_index_has_title(page, server):
    resp = page.goto(server + '/')
    assert resp.ok
    assert SITE['title'] in page.title()
    assert page.locator('h1').first.is_visible()

def test_navigate_to_data_page(page, server):
    "The sidebar link leads to the data chapter, whose images all decode and include at least one plot."
    if '00_data.ipynb' not in LISTED: pytest.fail('00_data.ipynb is not listed in _quarto.yml website.sidebar.contents')
    page.goto(server + '/')
    target = build_docs.page_name('00_data.ipynb') + '.html'
    link = page.locator(f'.sidebar-tree a[href="{target}"]')
    assert link.count() == 1, f'no sidebar link to {target}'
    link.click()
    page.wait_for_url(re.compile(re.escape(target) + r'(#.*)?$'))
    assert page.locator('h1').first.is_visible()
    imgs = _images(page)
    broken = [src for src, w, _ in imgs if not w > 0]
    assert not broken, f'images that did not decode: {broken}'
    assert sum(out for *_, out in imgs) >= 1, 'no plot image on the data page'

@pytest.mark.parametrize('nb,min_plots', PLOT_PAGES, ids=[nb for nb, _ in PLOT_PAGES])
def test_page_plots(request, nb, min_plots):
    "Each chapter's page loads, every image on it decodes, and it shows every plot its notebook stores (at least `min_plots`)."
    if nb not in LISTED: pytest.skip(f'{nb} is not listed in _quarto.yml')
    if not (ROOT/'nbs'/nb).exists(): pytest.skip(f'{nb} is not written yet')
    site, server, page = (request.getfixturevalue(f) for f in ('site', 'server', 'page'))
    html = build_docs.page_name(nb) + '.html'
    assert (site/html).exists(), f'{html} missing from {site} although nbs/{nb} exists (stale site? rebuild it)'
    resp = page.goto(f'{server}/{html}')
    assert resp.ok
    imgs = _images(page)
    broken = [src for src, w, _ in imgs if not w > 0]
    assert not broken, f'{html}: images that did not decode: {broken}'
    n_plots = sum(out for *_, out in imgs)
    expected = stored_plots(nb)
    assert expected >= min_plots, f'nbs/{nb} stores {expected} plots, expected at least {min_plots} (re-run it: scripts/run_notebooks.sh)'
    assert n_plots == expected, f'{html}: {n_plots} plot images, but nbs/{nb} stores {expected}'

# ------------------------------------------------------------------ what a reader sees on every page

def _pages(site):
    "(notebook, built HTML text) of every listed notebook that exists."
    return [(nb, (site/f'{build_docs.page_name(nb)}.html').read_text()) for nb in LISTED
            if nb.endswith('.ipynb') and (ROOT/'nbs'/nb).exists()]

def _plain(md):
    "Markdown inline text as a reader sees it: links to their words, no backticks or emphasis, one space between words."
    md = re.sub(r'\[([^\]]*)\]\([^)]*\)', r'\1', md).translate(str.maketrans('‘’“”', '\'\'""'))  # Sphinx's quotes
    return ' '.join(re.sub(r'[`*]', '', md).split())

def test_page_summaries_are_whole(site):
    "Each notebook's one-line summary (the `>` line under its title) is one line, and its page shows all of it."
    import html, json
    cut = []
    for nb, page in _pages(site):
        cells = json.loads((ROOT/'nbs'/nb).read_text())['cells']
        head = next(''.join(c['source']) for c in cells if c['cell_type'] == 'markdown' and ''.join(c['source']).startswith('# '))
        quoted = [l for l in head.splitlines() if l.startswith('>')]
        assert len(quoted) == 1, f'{nb}: the summary spans {len(quoted)} lines (nbdev keeps only the first)'
        shown = re.search(r'<blockquote>\s*<div><p>(.*?)</p>', page, re.S)
        if not shown or _plain(html.unescape(re.sub(r'<[^>]+>', '', shown.group(1)))) != _plain(quoted[0][1:]):
            cut.append(nb)
    assert not cut, f'pages whose summary is missing or cut: {cut}'

def test_no_raw_html_on_pages(site):
    "No page shows HTML markup as text (e.g. a link inside a signature's comment rendered as `<a class=…>`)."
    raw = {nb: n for nb, page in _pages(site) if (n := len(re.findall(r'&lt;/?(?:a|code|span|div)\b', page)))}
    assert not raw, f'raw HTML shown as text (page: count): {raw}'

def test_plots_have_alt_text(site):
    "Every plot in a cell output has alt text that says what it shows (a `#| fig-alt:` line), not its file name."
    bad, seen = {}, 0
    for nb, page in _pages(site):
        for m in re.finditer(r'<div class="cell_output.*?(?=<div class="cell |\Z)', page, re.S):
            for alt in re.findall(r'<img alt="([^"]*)"', m.group(0)):
                seen += 1
                if alt.startswith('_images/') or len(alt) < 20: bad.setdefault(nb, []).append(alt)
    assert seen >= sum(n for _, n in PLOT_PAGES), f'only {seen} plots found in cell outputs'
    assert not bad, f'plots without a real alt text: {bad}'

def test_source_links_point_at_the_repository(site):
    "Every `source` link points at a file of this package in the repository settings.ini names (on its branch)."
    import configparser
    cfg = configparser.ConfigParser(); cfg.read(ROOT/'settings.ini')
    prefix = f"{cfg['DEFAULT']['git_url'].rstrip('/')}/blob/{cfg['DEFAULT']['branch']}/"
    bad, seen = [], 0
    for nb, page in _pages(site):
        for href in re.findall(r'<a class="reference external" href="([^"]+)">source</a>', page):
            seen += 1
            path = href[len(prefix):].split('#')[0] if href.startswith(prefix) else None
            if path is None or not (ROOT/path).is_file(): bad.append(f'{nb}: {href}')
    assert seen > 100, f'only {seen} source links found'  # every documented function has one
    assert not bad, f'source links elsewhere or to missing files: {bad[:10]}'

def test_wide_tables_scroll_in_their_box(page, server, site):
    "A table wider than the text column scrolls inside its own box; the page itself never gets wider than the window."
    wide_pages = [nb for nb, text in _pages(site) if 'class="dataframe' in text]
    assert wide_pages, 'no page with a table output'
    for nb in wide_pages:
        page.goto(f'{server}/{build_docs.page_name(nb)}.html')
        page.wait_for_load_state('load')
        width, boxes = page.evaluate("""() => [document.documentElement.scrollWidth,
            [...document.querySelectorAll('.cell_output table')].map(t => {
                const box = t.closest('.output') || t.parentElement;
                return [t.scrollWidth > box.clientWidth, getComputedStyle(box).overflowX]; })]""")
        assert width <= 1280, f'{nb}: the page is {width} px wide in a 1280 px window'
        assert all(o in ('auto', 'scroll') for wide, o in boxes if wide), f'{nb}: a wide table is cut, not scrolled'
