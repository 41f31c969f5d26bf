"""Property-based tests (hypothesis) of the data layer and the backtest engine.

Data: random valid price files (Yahoo's columns, written as CSV with a VIX.csv and a DTB3.csv) load, in any row
order, with the numbers as written; random damage (duplicate dates, NaN, holes, non-positive values, negative
volume, huge one-day jumps) is a `DataError` — never another exception, never a frame.
Backtest: buy & hold equals the price ratio, weight 0 earns the cash rate, costs are >= 0 and monotone in turnover,
and the row order of the inputs does not matter.
"""
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from deepregime.data import DataError, load_market
from deepregime.backtest.backtest_leverage import backtest

FAST = settings(max_examples=30, deadline=None)
PX = ['Open', 'High', 'Low', 'Close', 'Adj Close']

# ------------------------------------------------------------------ random valid files

def _prices(rng, dates, level, vol, traded=True) -> pd.DataFrame:
    "A random daily OHLC table in Yahoo's layout: consistent OHLC, dividends that step Adj Close/Close up to 1."
    n = len(dates)
    close = level*np.exp(np.cumsum(rng.normal(0, vol, n)))
    open_ = close*np.exp(rng.normal(0, vol/2, n))
    high = np.maximum(open_, close)*(1 + rng.uniform(0, vol, n))
    low = np.minimum(open_, close)*(1 - rng.uniform(0, vol, n))
    div = np.where(rng.random(n) < 0.05, rng.uniform(0, 0.01, n), 0.) if traded else np.zeros(n)
    later = np.cumsum(div[::-1])[::-1] - div  # dividends after each day: Adj Close = Close on the last day
    vol_ = rng.integers(1_000, 10_000_000, n).astype(float) if traded else np.zeros(n)
    return pd.DataFrame({'Date': dates.strftime('%Y-%m-%d'), 'Open': open_, 'High': high, 'Low': low, 'Close': close,
                         'Adj Close': close*np.exp(-later), 'Volume': vol_})

def _files(seed:int, n:int) -> dict:
    "SPY, VIX and DTB3 tables on `n` weekdays (VIX with a few extra rows before SPY starts, DTB3 with blanks)."
    rng = np.random.default_rng(seed)
    start = pd.Timestamp('1995-01-02') + pd.Timedelta(days=int(rng.integers(0, 8000)))
    dates = pd.bdate_range(start, periods=n)
    spy = _prices(rng, dates, rng.uniform(20, 500), rng.uniform(0.002, 0.03))
    vix = _prices(rng, pd.bdate_range(end=dates[-1], periods=n + 5), rng.uniform(10, 40), rng.uniform(0.02, 0.08),
                  traded=False)
    vix['Adj Close'] = vix['Close']
    rate = np.round(rng.uniform(0, 6) + np.cumsum(rng.normal(0, 0.02, n)), 2)
    blank = (rng.random(n) < 0.03) & (np.arange(n) > 0)  # isolated holiday blanks, never the first day
    blank &= ~np.r_[False, blank[:-1]]
    dtb3 = pd.DataFrame({'Date': dates.strftime('%Y-%m-%d'), 'Rate': np.where(blank, np.nan, rate)})
    return {'SPY': spy, 'VIX': vix, 'DTB3': dtb3}

def _write(files:dict, folder:Path, order=None) -> Path:
    "Write the tables as CSV into `folder`, rows permuted by `order` (a numpy Generator) when given."
    for name, df in files.items():
        if order is not None: df = df.iloc[order.permutation(len(df))]
        df.to_csv(folder/f'{name}.csv', index=False)
    return folder

def _load(files:dict, order=None, **kw) -> pd.DataFrame:
    "`load_market` on `files` written to a fresh folder, over exactly their SPY dates."
    dates = files['SPY']['Date']
    with tempfile.TemporaryDirectory() as d:
        return load_market(dates.min(), dates.max(), data_dir=_write(files, Path(d), order), download=False, **kw)

seeds, sizes = st.integers(0, 2**32 - 1), st.integers(40, 160)

@FAST
@given(seeds, sizes)
def test_valid_files_load_as_written_in_any_row_order(seed, n):
    files = _files(seed, n)
    mkt = _load(files)
    spy = files['SPY'].set_index(pd.DatetimeIndex(files['SPY']['Date'], name='date'))
    assert list(mkt.index) == list(spy.index)
    np.testing.assert_array_equal(mkt['Adj Close'].to_numpy(), spy['Adj Close'].to_numpy())  # exactly as written
    vix = files['VIX'].set_index(pd.DatetimeIndex(files['VIX']['Date']))['Close']
    np.testing.assert_array_equal(mkt['VIX'].to_numpy(), vix.reindex(mkt.index).to_numpy())
    assert mkt.notna().all().all()
    shuffled = _load(files, order=np.random.default_rng(seed + 1))
    pd.testing.assert_frame_equal(shuffled, mkt, check_exact=True)
    w = pd.Series(np.random.default_rng(seed).uniform(0, 1.5, len(mkt)), index=mkt.index)
    pd.testing.assert_frame_equal(backtest(w, shuffled), backtest(w, mkt), check_exact=True)

# ------------------------------------------------------------------ random damage

def _dup(f, rng, name):
    df = f[name]
    if name == 'DTB3': df = df[df['Rate'].notna()]
    i = int(rng.integers(0, len(df)))
    f[name] = pd.concat([f[name], df.iloc[[i]]])

def _nan(f, rng, name):
    df = f[name]
    df.iloc[int(rng.integers(0, len(df))), int(rng.integers(1, 7))] = np.nan

def _hole(f, rng, name):  # more than a trading week missing, inside the range
    df, k = f[name], int(rng.integers(6, 25))
    i = int(rng.integers(3, len(f['SPY']) - k - 3)) + (len(df) - len(f['SPY']))  # VIX has 5 extra rows in front
    f[name] = df.drop(df.index[i:i + k])

def _nonpositive(f, rng, name):
    df = f[name]
    df.iloc[int(rng.integers(0, len(df))), int(rng.integers(1, 6))] = rng.choice([0., -1., -df['Close'].iloc[0]])

def _negative_volume(f, rng, name):
    df = f[name]
    df.iloc[int(rng.integers(0, len(df))), 6] = -float(rng.integers(1, 1000))

def _jump(f, rng, name):  # every price of one day (first, last or any) x or / a factor of 10 to 1000
    df = f[name]
    i = int(rng.choice([0, len(df) - 1, int(rng.integers(0, len(df)))]))
    factor = 10.**rng.uniform(1, 3)
    df.loc[df.index[i], PX] *= factor if rng.random() < 0.5 else 1/factor

DAMAGE = {'duplicate date': (_dup, ['SPY', 'VIX', 'DTB3']), 'NaN': (_nan, ['SPY', 'VIX']),
          'hole': (_hole, ['SPY', 'VIX', 'DTB3']), 'non-positive': (_nonpositive, ['SPY', 'VIX']),
          'negative volume': (_negative_volume, ['SPY']), 'huge jump': (_jump, ['SPY', 'VIX'])}

@settings(max_examples=50, deadline=None)
@given(seeds, sizes, st.sampled_from(sorted(DAMAGE)), st.integers(0, 2))
def test_damaged_files_are_a_data_error(seed, n, kind, which):
    files, rng = _files(seed, n), np.random.default_rng(seed)
    fn, names = DAMAGE[kind]
    name = names[which % len(names)]
    files[name] = files[name].copy()
    fn(files, rng, name)
    with pytest.raises(DataError):
        _load(files)

@FAST
@given(seeds, sizes)
def test_implausible_files_load_when_allowed(seed, n):
    files, rng = _files(seed, n), np.random.default_rng(seed)
    files['SPY'] = files['SPY'].copy()
    i = int(rng.integers(1, n - 1))
    files['SPY'].loc[i, 'Adj Close'] *= 1000
    with pytest.raises(DataError, match='implausible prices'): _load(files)
    assert _load(files, allow_implausible=True)['Adj Close'].iloc[i] == files['SPY']['Adj Close'].iloc[i]

# ------------------------------------------------------------------ the backtest engine

def _market(seed:int, n:int) -> pd.DataFrame:
    "A frame shaped like `load_market`'s (Adj Close, DTB3) on `n` weekdays."
    rng = np.random.default_rng(seed)
    idx = pd.bdate_range('2001-01-01', periods=n, name='date')
    px = rng.uniform(20, 500)*np.exp(np.cumsum(rng.normal(0, rng.uniform(0.002, 0.03), n)))
    return pd.DataFrame({'Adj Close': px, 'DTB3': np.round(rng.uniform(0, 6, n), 2)}, index=idx)

@FAST
@given(seeds, sizes, st.integers(0, 5))
def test_buy_and_hold_equals_the_price_ratio(seed, n, lag):
    mkt = _market(seed, n)
    ones = pd.Series(1., index=mkt.index)
    px = mkt['Adj Close']
    for bt in (backtest(ones, mkt, lag=lag, frictionless=True), backtest(ones, mkt, lag=lag, cost_bps=0.)):
        first = mkt.index.get_loc(bt.index[0]) - 1  # the equity starts from the close before the first return
        np.testing.assert_allclose(bt['equity'], px.loc[bt.index]/px.iloc[first], rtol=1e-10)

@FAST
@given(seeds, sizes, st.floats(0, 100), st.floats(0, 1000))
def test_weight_zero_earns_the_cash_rate(seed, n, cost_bps, spread_bps):
    mkt = _market(seed, n)
    bt = backtest(pd.Series(0., index=mkt.index), mkt, cost_bps=cost_bps, spread_bps=spread_bps)
    pd.testing.assert_series_equal(bt['net'], bt['rf'], check_names=False)
    assert (bt['cost'] == 0).all()
    np.testing.assert_allclose(bt['equity'], (1 + bt['rf']).cumprod(), rtol=1e-12)

@FAST
@given(seeds, sizes, st.floats(0, 100), st.floats(0, 100))
def test_costs_are_nonnegative_and_monotone_in_turnover(seed, n, c1, c2):
    mkt = _market(seed, n)
    w = pd.Series(np.random.default_rng(seed).uniform(0, 2, n), index=mkt.index)
    lo, hi = sorted((c1, c2))
    a, b = backtest(w, mkt, cost_bps=lo), backtest(w, mkt, cost_bps=hi)
    assert (a['cost'] >= 0).all()
    cost = a['cost'].to_numpy()[np.argsort(a['turnover'].to_numpy(), kind='stable')]
    assert (np.diff(cost) >= 0).all()  # a day that trades more never costs less
    assert (a['cost'] <= b['cost']).all() and a['cost'].sum() <= b['cost'].sum()
    calm = pd.Series(w.iloc[0], index=mkt.index)  # the same first position, never traded again
    assert backtest(calm, mkt, cost_bps=hi)['cost'].sum() <= b['cost'].sum()

@FAST
@given(seeds, sizes)
def test_backtest_does_not_depend_on_the_row_order_of_weights(seed, n):
    mkt = _market(seed, n)
    rng = np.random.default_rng(seed)
    w = pd.Series(rng.uniform(0, 1.5, n), index=mkt.index)
    pd.testing.assert_frame_equal(backtest(w.iloc[rng.permutation(n)], mkt), backtest(w, mkt), check_exact=True)

def test_backtest_does_not_depend_on_the_row_order_of_mkt():
    for seed in range(5):
        mkt = _market(seed, 60)
        rng = np.random.default_rng(seed)
        w = pd.Series(rng.uniform(0, 1.5, 60), index=mkt.index)
        try: shuffled = backtest(w, mkt.iloc[rng.permutation(60)])
        except ValueError: continue  # refusing an unsorted frame is fine; a different number is not
        pd.testing.assert_frame_equal(shuffled, backtest(w, mkt), check_exact=True, check_freq=False)
