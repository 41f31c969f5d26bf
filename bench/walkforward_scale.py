"""Scale-out of a searched walk-forward: the same run serially, on the local process pool and on a local Ray instance.

    .venv/bin/python bench/walkforward_scale.py [--folds 4] [--trials 8] [--workers 2] [--json FILE]

The run: the HMM and the jump model, their settings searched in every fold (`--trials` Optuna trials on 2 inner
years), on the last `--folds` test years up to 2024; no fold cache, so every run fits everything. One task per fold
(both methods), so `--folds` tasks share the workers. Each backend runs it once, in this order: serially in this
process, on the local process pool with `--workers` workers, and on a Ray instance with `--workers` CPUs that the
run starts and stops itself (its start-up is part of its wall time; the line after the table times an empty Ray
start and stop alone). A model fit is one detector fitted on one set of training rows: every distinct configuration a
study tried, once per inner year, plus the refit of the chosen settings on the fold's training rows. The signals of
the three runs must be identical (checked; the script fails otherwise). Figures depend on the machine and its load:
compare the ratios of one run, not figures across machines. Every task runs torch and the math libraries on one
thread (`single_threaded`), in the serial run too, so the serial run is one core.
"""
import argparse, json, logging, os, sys, time

import pandas as pd

from deepregime.data import load_market
from deepregime.parallel import map_tasks
from deepregime.walkforward import WalkForwardConfig, walk_forward


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--folds', type=int, default=4, help='test years, the last ones up to 2024 (default 4)')
    p.add_argument('--trials', type=int, default=8, help='search trials per method and fold (default 8)')
    p.add_argument('--workers', type=int, default=2, help='workers of the pool and CPUs of the Ray instance (default 2)')
    p.add_argument('--no-ray', action='store_true', help='leave out the Ray run (without the ray extra)')
    p.add_argument('--json', default=None, help='also write the table here (JSON)')
    return p.parse_args(argv)


def model_fits(res, inner_folds:int) -> int:
    "Detector fits of a searched run: each distinct configuration once per inner year, plus each fold's refit."
    return sum(s['configurations'] * inner_folds + 1 for studies in res.searches.values() for s in studies.values())


def _nothing(): return None


def main(argv=None):
    a = parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    cfg = WalkForwardConfig(methods=('hmm', 'jump_model'), search_trials=a.trials, inner_folds=2,
                            first_test=f'{2025 - a.folds}-01-01', end='2024-12-31')
    mkt = load_market(cfg.start, cfg.end)
    runs = [('serial (this process)', 'local', 1), ('local process pool', 'local', a.workers)]
    if not a.no_ray: runs.append(('local Ray instance', 'ray', a.workers))
    rows, signals, task_s = [], {}, None
    for name, backend, workers in runs:
        t0 = time.perf_counter()
        res = walk_forward(mkt, cfg, cache_dir=None, n_jobs=workers, backend=backend, progress=False)
        wall = time.perf_counter() - t0
        fits = model_fits(res, cfg.inner_folds)
        signals[name] = res.signals
        if task_s is None: task_s = res.info.groupby('fold')['seconds'].sum().round(1).tolist()  # serial: one task per fold
        rows.append({'run': name, 'backend': backend, 'workers': workers, 'tasks': len(res.folds),
                     'model fits': fits, 'wall s': wall, 'fits/s': fits / wall})
        print(f'{name}: {wall:.1f} s', file=sys.stderr, flush=True)
    ref = next(iter(signals.values()))
    same = all(s.equals(ref) for s in signals.values())
    tab = pd.DataFrame(rows).set_index('run')
    tab['speed-up'] = tab['wall s'].iloc[0] / tab['wall s']
    print(f'searched walk-forward: hmm + jump_model, {a.trials} trials per method and fold on 2 inner years, '
          f'{a.folds} folds ({cfg.first_test[:4]}–2024), {len(os.sched_getaffinity(0))} cores')
    print(tab.round({'wall s': 1, 'fits/s': 2, 'speed-up': 2}).to_string())
    bound = max(max(task_s), sum(task_s) / a.workers)
    print(f'the tasks took {", ".join(f"{t:g}" for t in task_s)} s in the serial run: no schedule on {a.workers} workers '
          f'can beat {bound:.1f} s, a speed-up of {sum(task_s) / bound:.2f}')
    ray_start = None
    if not a.no_ray:
        t0 = time.perf_counter()
        map_tasks(_nothing, [()], n_jobs=a.workers, backend='ray')
        ray_start = time.perf_counter() - t0
        print(f'Ray start and stop alone: {ray_start:.1f} s')
    print(f'identical signals on every backend: {"yes" if same else "NO"}')
    if a.json:
        out = {'folds': a.folds, 'trials': a.trials, 'workers': a.workers, 'cores': len(os.sched_getaffinity(0)),
               'methods': list(cfg.methods), 'first_test': cfg.first_test, 'identical_signals': same,
               'ray_start_stop_s': ray_start, 'serial_task_seconds': task_s,
               'best_speed_up': sum(task_s) / bound, 'runs': tab.reset_index().to_dict(orient='records')}
        with open(a.json, 'w') as f: json.dump(out, f, indent=1)
    if not same: raise SystemExit('the backends gave different signals')


if __name__ == '__main__':
    main()
