"""Training and inference speed of `RegimeTransformer` against the plain `nn.TransformerEncoder` baseline.

    .venv/bin/python bench/model_speed.py [--batch 256] [--threads N] [--rounds 4] [--steps 3] [--warmup 3]

Both networks have the same architecture, hyper-parameters (2 layers, 4 heads, d_model 64, feed-forward 128, dropout
0.1, 60x6 windows) and start from the same weights; each training step is AdamW + cross-entropy on one fixed random
batch. The contenders run in turns (`--steps` calls each, `--rounds` times) after `--warmup` untimed steps, so they
share whatever load other users put on the machine; the figures are medians over the timed calls. Peak memory is
measured in a fresh child process per cell: the peak resident set size (VmHWM in /proc/self/status, reset through
/proc/self/clear_refs just before) during 3 steps at the full batch, minus the resident size just before them, after
a warm-up at batch 2 has initialized the math libraries. (`getrusage` ru_maxrss cannot be used for this: a child
started by fork+exec inherits the parent's peak, which is larger than anything the child does.)

Model FLOPs utilisation (MFU): the matrix-product FLOPs of one training step (forward + backward, counted by torch's
`FlopCounterMode`) per window, times the windows per second, over the fp32 matrix-multiply peak measured in the same
run (`torch.mm` of two 2048 x 2048 matrices, timed in turns with the training steps so that both see the same load;
the median). `--profile` adds where the time of the
default model's training step goes (torch.profiler).

The last line is the training speedup of the default `RegimeTransformer` (float32, the baseline's maths); the line
before it gives the speedup of the opt-in bf16 precision.

OpenMP: unless OMP_WAIT_POLICY is already set, it is set to PASSIVE before torch is imported (`--omp-wait-policy`
changes that). With the default (spinning) policy, two OpenMP threads on a machine whose cores are busy with other
people's work wait for each other at every operator and both networks slow down by up to 10x.
"""
import argparse, json, os, subprocess, sys, time


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--batch', type=int, default=256, help='windows per step (default 256)')
    p.add_argument('--threads', type=int, default=None, help='torch threads (default: torch default, = cores)')
    p.add_argument('--rounds', type=int, default=4, help='interleaved rounds (default 4)')
    p.add_argument('--steps', type=int, default=3, help='timed steps per model and round (default 3)')
    p.add_argument('--warmup', type=int, default=3, help='untimed warm-up steps per model (default 3)')
    p.add_argument('--seed', type=int, default=0, help='seed of weights and data (default 0)')
    p.add_argument('--omp-wait-policy', default='PASSIVE', choices=['PASSIVE', 'ACTIVE', 'unset'],
                   help='OMP_WAIT_POLICY if not already set in the environment (default PASSIVE)')
    p.add_argument('--stacked', default='4,8', help='numbers of networks trained together, comma-separated (default 4,8)')
    p.add_argument('--profile', action='store_true', help="print where the default model's training step spends its time")
    p.add_argument('--no-memory', action='store_true', help='skip the peak-memory measurements (child processes)')
    p.add_argument('--child', default=None, help=argparse.SUPPRESS)  # internal: "<contender>:<train|infer>"
    return p.parse_args(argv)


ARGS = parse_args()
if ARGS.omp_wait_policy != 'unset': os.environ.setdefault('OMP_WAIT_POLICY', ARGS.omp_wait_policy)

import pandas as pd  # noqa: E402
import torch  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from deepregime.models.stacked import StackedTransformer  # noqa: E402
from deepregime.training.batched import StackedAdamW  # noqa: E402
from deepregime.models.transformer_regime import (ModelConfig, PlainTransformerBaseline, RegimeTransformer,  # noqa: E402
                                                  interleaved_timings, predict_step_fn, train_step_fn)

CONTENDERS = {  # name -> (class, extra config); the first is the reference, the second the headline
    'PlainTransformerBaseline': (PlainTransformerBaseline, {}),
    'RegimeTransformer': (RegimeTransformer, {}),
    'RegimeTransformer(attention_dropout=0)': (RegimeTransformer, {'attention_dropout': 0.0}),
    "RegimeTransformer(precision='bfloat16')": (RegimeTransformer, {'precision': 'bfloat16'}),
}


def ours_name(): return list(CONTENDERS)[1]


def build(name, seed):
    "The contender `name`, with the weights every contender gets for this seed."
    torch.manual_seed(seed)
    ref = RegimeTransformer()
    cls, extra = CONTENDERS[name]
    model = cls(ModelConfig(**extra))
    model.load_state_dict(ref.state_dict())
    return model


MATMUL_OPS = ('mm', 'addmm', 'bmm', 'baddbmm')  # the ops FlopCounterMode counts for these networks


def step_flops(step):
    "FLOPs of one call of `step` and their split by op, as counted by torch's FlopCounterMode."
    with FlopCounterMode(display=False) as fc: step()
    return fc.get_total_flops(), {str(k).split('.')[-1]: v for k, v in fc.get_flop_counts()['Global'].items()}


PEAK = 'fp32 matmul 2048x2048'  # timed in turns with the training steps: the peak under the same load
PEAK_N = 2048


def matmul_step_fn(n=PEAK_N, seed=0):
    "A function doing one fp32 `torch.mm` of two n x n matrices (2 n^3 FLOPs)."
    g = torch.Generator().manual_seed(seed)
    a, b = torch.randn(n, n, generator=g), torch.randn(n, n, generator=g)
    return lambda: a @ b


def shape_rates(batch, window=60, d_model=64, d_ff=128, n_heads=4, reps=10):
    "FLOP/s of the model's own matrix products alone and of the 2048 x 2048 peak product, timed in turns (medians)."
    rows, dh, g = batch * window, d_model // n_heads, torch.Generator().manual_seed(0)
    shapes = {f'{rows}x{d_model} @ {d_model}x{3 * d_model} (q, k, v)': ((rows, d_model), (d_model, 3 * d_model)),
              f'{rows}x{d_model} @ {d_model}x{d_ff} (feed-forward)': ((rows, d_model), (d_model, d_ff)),
              f'{batch * n_heads} x {window}x{dh} @ {dh}x{window} (attention scores)':
                  ((batch * n_heads, window, dh), (batch * n_heads, dh, window)),
              PEAK: ((PEAK_N, PEAK_N), (PEAK_N, PEAK_N))}
    mats = {k: (torch.randn(*sa, generator=g), torch.randn(*sb, generator=g)) for k, (sa, sb) in shapes.items()}
    times = {k: [] for k in shapes}
    for r in range(reps + 1):
        for k, (a, b) in mats.items():
            t0 = time.perf_counter(); a @ b
            if r: times[k].append(time.perf_counter() - t0)  # the first turn warms up
    return {k: 2 * mats[k][0].numel() * shapes[k][1][-1] / sorted(t)[len(t) // 2] for k, t in times.items()}


def profile_step(step, steps=5):
    "Share of a training step's time per op (self CPU time, torch.profiler) and the seconds per step."
    from torch.profiler import ProfilerActivity, profile
    for _ in range(2): step()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(steps): step()
    ev = [e for e in prof.key_averages() if e.key.startswith('aten::')]
    total = sum(e.self_cpu_time_total for e in ev)
    share = {e.key[6:]: e.self_cpu_time_total / total for e in ev}
    return dict(sorted(share.items(), key=lambda kv: -kv[1])), total / steps / 1e6


def stacked_step_fn(K, batch_size=256, seed=0, lr=1e-3):
    "One training step of K default networks stacked, network k with seed `seed + k` and a fixed batch of its own."
    st = StackedTransformer([build(ours_name(), seed + k) for k in range(K)])
    opt = StackedAdamW(st.weights, [lr] * K, [1e-2] * K)  # torch.optim.AdamW's default weight decay, as train_step_fn
    g, c = torch.Generator().manual_seed(seed), st.config
    x = torch.randn(K, batch_size, c.window, c.n_features, generator=g)
    y = torch.randint(0, c.n_regimes, (K, batch_size), generator=g)
    gens, every = [torch.Generator().manual_seed(seed + k) for k in range(K)], list(range(K))
    def step():
        st.train()
        opt.zero_grad()
        F.cross_entropy(st(x, gens).flatten(0, 1), y.flatten(), reduction='none').view(K, -1).mean(1).sum().backward()
        opt.step(every)
    return step


def proc_status_mib(field):
    "VmRSS, VmHWM, ... of this process in MiB (Linux)."
    with open('/proc/self/status') as f:
        return next(int(l.split()[1]) for l in f if l.startswith(field + ':')) / 1024


def reset_peak_rss():
    "Set this process's peak RSS (VmHWM) to its current RSS (Linux >= 4.0)."
    with open('/proc/self/clear_refs', 'w') as f: f.write('5')


def child(spec, args):
    "Peak RSS growth (MiB) of one contender doing a few training or inference steps at the full batch."
    name, mode = spec.rsplit(':', 1)
    make = train_step_fn if mode == 'train' else predict_step_fn
    model = build(name, args.seed)
    make(build(name, args.seed), batch_size=2, seed=args.seed)()  # initialize MKL/oneDNN/OpenMP on a tiny batch
    step = make(model, batch_size=args.batch, seed=args.seed)
    reset_peak_rss()
    before = proc_status_mib('VmRSS')
    for _ in range(3): step()
    print(json.dumps({'peak_mib': proc_status_mib('VmHWM') - before}))


def peak_memory(name, mode, args):
    cmd = [sys.executable, os.path.abspath(__file__), '--child', f'{name}:{mode}', '--batch', str(args.batch),
           '--seed', str(args.seed)] + (['--threads', str(args.threads)] if args.threads else [])
    out = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ})
    if out.returncode: raise RuntimeError(f'memory child {name}:{mode} failed:\n{out.stderr[-2000:]}')
    return json.loads(out.stdout.strip().splitlines()[-1])['peak_mib']


def main(args):
    if args.threads: torch.set_num_threads(args.threads)
    if args.child: return child(args.child, args)
    t_start = time.perf_counter()
    models = {name: build(name, args.seed) for name in CONTENDERS}
    n_params = {name: m.n_parameters for name, m in models.items()}
    print(f'model_speed: batch {args.batch}, {torch.get_num_threads()} threads, '
          f'OMP_WAIT_POLICY={os.environ.get("OMP_WAIT_POLICY", "unset")}, torch {torch.__version__}, '
          f'CPU capability {torch.backends.cpu.get_cpu_capability()}, seed {args.seed}, '
          f'load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs')
    print('parameters: ' + ', '.join(f'{k} {v:,}' for k, v in n_params.items()))
    if len(set(n_params.values())) != 1: raise SystemExit('parameter counts differ: not the same architecture')
    print(f'timing: {args.warmup} warm-up steps per model excluded, then {args.rounds} rounds x {args.steps} '
          f'steps per model, interleaved; medians')

    ks = [int(k) for k in args.stacked.split(',') if k.strip()]
    stacked = {f'{k} stacked': k for k in ks}
    train = interleaved_timings({**{k: train_step_fn(m, args.batch, args.seed) for k, m in models.items()},
                                 **{name: stacked_step_fn(k, args.batch, args.seed) for name, k in stacked.items()},
                                 PEAK: matmul_step_fn()}, rounds=args.rounds, steps=args.steps, warmup=args.warmup)
    infer = interleaved_timings({k: predict_step_fn(m, args.batch, args.seed) for k, m in models.items()},
                                rounds=args.rounds, steps=2 * args.steps, warmup=args.warmup)
    windows_per_step = pd.Series({**{k: 1 for k in CONTENDERS}, **stacked}) * args.batch
    train_ws = (windows_per_step / train.groupby('name').seconds.median()).dropna()
    flops, by_op = step_flops(train_step_fn(build(ours_name(), args.seed), args.batch, args.seed))
    flops_window = flops / args.batch
    peak = 2 * PEAK_N ** 3 / train[train.name == PEAK].seconds.median()
    infer_ws = args.batch / infer.groupby('name').seconds.median()
    mem = {}
    if not args.no_memory:
        for name in CONTENDERS:
            for mode in ('train', 'infer'): mem[name, mode] = peak_memory(name, mode, args)

    w = max(len(k) for k in CONTENDERS)
    print(f'{"model":{w}s}  {"train win/s":>11s}  {"train MFU":>9s}  {"infer win/s":>11s}  {"train peak MiB":>14s}  '
          f'{"infer peak MiB":>14s}')
    for name in CONTENDERS:
        m_tr = f'{mem[name, "train"]:14.1f}' if mem else f'{"-":>14s}'
        m_in = f'{mem[name, "infer"]:14.1f}' if mem else f'{"-":>14s}'
        mfu = f'{100 * train_ws[name] * flops_window / peak:8.1f}%'
        print(f'{name:{w}s}  {train_ws[name]:11,.0f}  {mfu:>9s}  {infer_ws[name]:11,.0f}  {m_tr}  {m_in}')
    if mem: print('peak MiB: peak RSS (VmHWM) during 3 steps at the full batch minus RSS before them, '
                  'fresh process per cell, after a warm-up at batch 2')
    base, ours, _, bf16 = CONTENDERS
    split = ', '.join(f'{k} {100 * v / flops:.0f} %' for k, v in sorted(by_op.items(), key=lambda kv: -kv[1]))
    print(f'model FLOPs per training window: {flops_window / 1e6:.2f} MFLOP (matrix products, forward + backward, '
          f'FlopCounterMode: {split})')
    print(f'fp32 matmul peak, measured in this run: {peak / 1e9:.0f} GFLOP/s (torch.mm 2048 x 2048, '
          f'{torch.get_num_threads()} threads, timed in turns with the training steps)')
    print('MFU = train win/s x FLOPs per window / that peak, with the FLOPs of the default model for every row (the '
          "baseline's own step does more: its last layer is not pruned; the bf16 row: against the fp32 peak)")
    if args.profile:
        share, step_s = profile_step(train_step_fn(build(ours, args.seed), args.batch, args.seed))
        mm = sum(v for k, v in share.items() if k in MATMUL_OPS)
        top = ', '.join(f'{k} {100 * v:.0f} %' for k, v in list(share.items())[:8] if k not in MATMUL_OPS)
        print(f'profile of the {ours} training step: matrix products {100 * mm:.0f} % of the time; '
              f'the rest mostly {top}')
        rates = shape_rates(args.batch)
        here = rates.pop(PEAK)
        print('its matrix products alone, in turns with the peak product: ' + '; '.join(
            f'{k} {v / 1e9:.0f} GFLOP/s ({100 * v / here:.0f} % of the {here / 1e9:.0f} GFLOP/s peak)'
            for k, v in rates.items()))
    if stacked:
        print(f'training several networks at once: StackedTransformer + StackedAdamW, each network its own batch of '
              f'{args.batch}, timed in the same turns')
        print(f'{"networks":12s}  {"train win/s":>11s}  {"train MFU":>9s}  {"vs one at a time":>16s}')
        for name in [ours] + list(stacked):
            label = '1 (alone)' if name == ours else name
            print(f'{label:12s}  {train_ws[name]:11,.0f}  {100 * train_ws[name] * flops_window / peak:8.1f}%  '
                  f'{train_ws[name] / train_ws[ours]:15.2f}x')
        for name, k in stacked.items():
            f_k, _ = step_flops(stacked_step_fn(k, 4, args.seed))
            if abs(f_k / (4 * k) - flops_window) > 1e-6 * flops_window:
                raise SystemExit(f'{name}: {f_k / (4 * k):.0f} FLOPs per window, one network {flops_window:.0f}')
        print('(FLOPs per window of the stacked steps checked equal to one network\'s)')
        if args.profile:
            k = max(stacked.values())
            share, _ = profile_step(stacked_step_fn(k, args.batch, args.seed))
            mm = sum(v for n, v in share.items() if n in MATMUL_OPS)
            top = ', '.join(f'{n} {100 * v:.0f} %' for n, v in list(share.items())[:8] if n not in MATMUL_OPS)
            print(f'profile of the {k} stacked training step: matrix products {100 * mm:.0f} % of the time; '
                  f'the rest mostly {top}')
    print(f'MFU single: {100 * train_ws[ours] * flops_window / peak:.1f} %')
    for name, k in stacked.items():
        print(f'MFU batched K={k}: {100 * train_ws[name] * flops_window / peak:.1f} %  '
              f'(speed-up over one network at a time: {train_ws[name] / train_ws[ours]:.2f}x windows/s)')
    print(f'total time {time.perf_counter() - t_start:.0f} s')
    print(f'inference speedup: {infer_ws[ours] / infer_ws[base]:.1f}x')
    print(f'training speedup of the bf16 option (precision=bfloat16, opt-in): {train_ws[bf16] / train_ws[base]:.1f}x')
    print(f'training speedup: {train_ws[ours] / train_ws[base]:.1f}x')


if __name__ == '__main__':
    main(ARGS)
