"""A seed ensemble of forecasters trained one by one against trained together (`fit_forecasters(batched=True)`).

    .venv/bin/python bench/ensemble_training.py [--seeds 3] [--threads 1 2] [--epochs 8]

The workload is chapter 07's `transformer_ensemble` on one fold: `TransformerForecaster`s (its default network and
training settings, horizons 1, 5, 10, 21, the `extended` feature set, forward-volatility targets with the training
rows' threshold) on the days to 2019 (from 2000 less the features' warm-up), seeds 0, 1, ... Each thread count runs
both ways in turns (one by one, together, one by one, together) and reports the medians, the speed-up, and how far
the forecasts of the two ways are apart (float rounding of the batched arithmetic only when the epochs run are the
same). Then the same gap after `--gap-epochs` epochs (default 1 and 3): how the rounding grows through training.
"""
import argparse, os, statistics, time

os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')  # as bench/model_speed.py

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402

from deepregime.data import load_market  # noqa: E402
from deepregime.feature_sets import feature_set  # noqa: E402
from deepregime.targets import fit_threshold, target_labels, target_values, train_rows  # noqa: E402
from deepregime.training.batched import fit_forecasters  # noqa: E402
from deepregime.training.forecaster import TransformerForecaster  # noqa: E402

HORIZONS, TRAIN_END = (1, 5, 10, 21), '2019-12-31'


def fold(data_dir=None):
    "Features and targets of the fold: training rows to 2019, forward-volatility targets at each horizon."
    mkt = load_market('2000-01-01', '2020-12-31', data_dir=data_dir)
    feats = feature_set(mkt, 'extended').loc[:TRAIN_END]
    Y = {}
    for h in HORIZONS:
        v, rows = target_values(mkt, 'forward_vol', h), train_rows(mkt.index, TRAIN_END, h)
        Y[f'h{h}'] = target_labels(v, 'forward_vol', fit_threshold(v.loc[rows], 'forward_vol')).where(v.index.isin(rows))
    return feats, pd.DataFrame(Y).reindex(feats.index)


def gap_of(together, alone, feats):
    "The largest difference of any forecast probability between the two fits of each seed."
    return max(float(np.abs(t.horizon_proba(feats).to_numpy() - o.horizon_proba(feats).to_numpy()).max())
               for t, o in zip(together, alone))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--seeds', type=int, default=3, help='ensemble members (default 3, as chapter 07)')
    p.add_argument('--threads', type=int, nargs='+', default=[1, 2], help='torch threads to measure (default 1 2)')
    p.add_argument('--epochs', type=int, default=None, help='most epochs (default: the forecaster default)')
    p.add_argument('--rounds', type=int, default=2, help='turns of each way per thread count (default 2)')
    p.add_argument('--gap-epochs', type=int, nargs='*', default=[1, 3], help='also the gap after these epochs (default 1 3)')
    a = p.parse_args(argv)
    feats, Y = fold()
    extra = {} if a.epochs is None else {'epochs': a.epochs}
    make = lambda: [TransformerForecaster(horizons=HORIZONS, seed=s, **extra) for s in range(a.seeds)]
    print(f'ensemble_training: {a.seeds} seeds of TransformerForecaster{extra or ""} on {len(feats)} days '
          f'({feats.index[0]:%Y-%m-%d} … {TRAIN_END}), torch {torch.__version__}, {os.cpu_count()} CPUs, '
          f'load average {os.getloadavg()[0]:.1f}')
    print(f'{"threads":>7s}  {"one by one s":>12s}  {"together s":>10s}  {"speed-up":>8s}  {"epochs run":>12s}  '
          f'{"max |dp|":>9s}')
    for th in a.threads:
        torch.set_num_threads(th)
        secs = {False: [], True: []}
        for _ in range(a.rounds):
            for batched in (False, True):
                t0 = time.perf_counter()
                fitted = fit_forecasters(make(), feats, Y, batched=batched)
                secs[batched].append(time.perf_counter() - t0)
                if batched: together = fitted
                else: alone = fitted
        gap = gap_of(together, alone, feats)
        epochs = ','.join(str(len(f.history_)) for f in alone) + ' / ' + ','.join(str(len(f.history_)) for f in together)
        one, tog = statistics.median(secs[False]), statistics.median(secs[True])
        print(f'{th:7d}  {one:12.1f}  {tog:10.1f}  {one / tog:7.2f}x  {epochs:>12s}  {gap:9.1e}')
    print('epochs run: per seed, one by one / together; max |dp|: largest difference of any forecast probability')
    for e in a.gap_epochs:
        alone, together = (fit_forecasters([TransformerForecaster(horizons=HORIZONS, seed=s, epochs=e)
                                            for s in range(a.seeds)], feats, Y, batched=b) for b in (False, True))
        print(f'after {e} epoch{"s" if e > 1 else ""}: max |dp| {gap_of(together, alone, feats):.1e}')


if __name__ == '__main__':
    main()
