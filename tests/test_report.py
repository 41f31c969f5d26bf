"""`deepregime report` opened in a real browser: every panel is there, every image decodes, no request leaves the page.

The report of the stored walk-forward (nbs/walkforward_results) is written by the command itself into a temporary
folder and opened as a file in headless Chromium (Debian's /usr/bin/chromium, driven by Playwright). Without the
browser the test skips, except under CI (CI=true), where that is a failure.
"""
import os, subprocess, sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = '/usr/bin/chromium'
CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
                 '--disable-component-update', '--disable-sync']
IN_CI = os.environ.get('CI', '').lower() == 'true'
PANELS = ['settings', 'metrics', 'equity', 'drawdowns', 'stress', 'rolling-sharpe', 'yearly', 'costs']
PLOTS = ['equity', 'drawdowns', 'stress', 'rolling-sharpe']

def _no_browser(msg):
    if IN_CI: pytest.fail(f'{msg} (CI=true: the browser check must run)')
    pytest.skip(f'{msg}: browser check skipped')

@pytest.fixture(scope='module')
def report(tmp_path_factory):
    "The stored walk-forward's report, written by `deepregime report` from the command line."
    out = tmp_path_factory.mktemp('report')/'walkforward.html'
    res = subprocess.run([str(Path(sys.executable).parent/'deepregime'), 'report', 'nbs/walkforward_results/walkforward.json',
                          '--out', str(out)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == f'report: {out}' and res.stderr == ''
    return out

def test_report_in_chromium(report):
    if not Path(CHROMIUM).exists(): _no_browser(f'{CHROMIUM} not found')
    try: from playwright.sync_api import sync_playwright
    except ImportError: _no_browser('playwright is not installed')
    url = report.as_uri()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(viewport={'width': 1280, 'height': 900}).new_page()
            requests, errors = [], []
            page.on('request', lambda r: requests.append(r.url))
            page.on('pageerror', lambda e: errors.append(str(e)))
            assert page.goto(url).ok
            page.wait_for_load_state('load')
            assert page.eval_on_selector_all('section', 'els => els.map(e => e.id)') == PANELS
            for panel in PANELS: assert page.locator(f'#{panel} h2').is_visible(), panel
            imgs = page.eval_on_selector_all('img', 'els => els.map(e => [e.closest("section").id, e.naturalWidth, '
                                             'e.getAttribute("alt")])')
            assert [s for s, *_ in imgs] == PLOTS
            assert all(w > 300 and len(alt) > 20 for _, w, alt in imgs), imgs
            for panel in ('metrics', 'yearly', 'costs'):
                assert page.locator(f'#{panel} table tr').count() > 3, panel
            # a wide table scrolls in its own box instead of widening the page
            assert page.evaluate('document.documentElement.scrollWidth') <= 1280
            page.screenshot(path=str(report.with_suffix('.png')), full_page=True)
        finally: browser.close()
    foreign = [u for u in requests if u != url and not u.startswith('data:')]
    assert not foreign, f'the report asked for other resources: {foreign}'
    assert not errors, errors
