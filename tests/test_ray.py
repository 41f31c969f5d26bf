"""The Ray backend (issue 25): `map_tasks` on Ray keeps task order, retries a dead worker and ends with a task's own
error; `deepregime walkforward --backend ray` and `deepregime forecast --backend ray` give the signals and forecasts of
the local pool bit for bit; killing the driver leaves no Ray process. Each test (the class: one for its tests) starts
its own local Ray instance and stops it. Skipped only where the extra (`pip install 'deepregime[ray]'`) is not
installed; `bash scripts/test.sh` installs it, so CI runs them."""
import os, signal, subprocess, sys, time
from pathlib import Path
import pandas as pd
import pytest

try: import ray
except ImportError: ray = None

from deepregime.parallel import BackendError, map_tasks
from processes import cmdline, descendants, gone_within

ROOT = Path(__file__).resolve().parents[1]
WF = ['--start', '1996-01-01', '--end', '2001-12-31', '--first-test', '2000-01-01', '--epochs', '2',
      '--warm-epochs', '1', '--methods', 'buy_hold', 'hmm', 'jump_model', 'transformer_h1', '--jobs', '2']
linux = pytest.mark.skipif(not Path('/proc/self/task').is_dir(), reason='needs Linux /proc')
needs_ray = pytest.mark.skipif(ray is None, reason="the ray extra is not installed: pip install 'deepregime[ray]'")

def env() -> dict:
    e = {**os.environ, 'MPLBACKEND': 'Agg', 'IN_TEST': '1'}
    if 'DEEPREGIME_DATA' not in e and (ROOT.parent/'shared'/'data').is_dir():
        e['DEEPREGIME_DATA'] = str(ROOT.parent/'shared'/'data')
    return e

def walkforward(*args, timeout=600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, '-m', 'deepregime.walkforward', *args], env=env(), cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)

# module-level tasks: Ray workers import them by name
def square_after(x, seconds=0.):
    time.sleep(seconds)
    return x * x

def die_once(x, marker):
    "Kill this worker the first time any task runs; then square."
    if not os.path.exists(marker):
        open(marker, 'w').close()
        os.kill(os.getpid(), signal.SIGKILL)
    return x * x

def fail_or_sleep(fail):
    if fail: raise ValueError('this task fails')
    time.sleep(60)

def test_without_the_extra_the_ray_backend_is_one_error_naming_it(tmp_path):
    code = ("import sys; sys.modules['ray'] = None\nfrom deepregime.walkforward.__main__ import main\n"
            f"main({['--backend', 'ray', '--no-cache', '--json', str(tmp_path/'x.json')]!r})")
    r = subprocess.run([sys.executable, '-c', code], env=env(), cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and r.stderr.strip().splitlines() == [
        "error: the ray backend needs Ray, which is not installed: pip install 'deepregime[ray]'"], r.stderr
    assert not (tmp_path/'x.json').exists()

@needs_ray
def test_a_ray_cluster_out_of_reach_is_one_error():
    assert not ray.is_initialized()
    with pytest.raises(BackendError, match='cannot start or reach Ray at ray://127.0.0.1:1'):
        map_tasks(square_after, [(1,)], backend='ray', ray_address='ray://127.0.0.1:1')

@pytest.fixture(scope='class')
def local_ray():
    "One local Ray instance for the tests of `map_tasks` below (map_tasks joins it and leaves it running)."
    import ray.cloudpickle
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import this test file by name
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try: yield
    finally: ray.shutdown()

@needs_ray
class TestMapTasksOnRay:
    "`map_tasks` joining a running Ray instance (it leaves it running)."
    def test_ray_tasks_come_back_in_task_order(self, local_ray):
        tasks = [(x, 0.5 if x == 0 else 0.) for x in range(6)]
        assert map_tasks(square_after, tasks, n_jobs=2, backend='ray') == map_tasks(square_after, tasks, n_jobs=1)

    def test_a_ray_worker_that_dies_is_retried(self, local_ray, tmp_path):
        assert map_tasks(die_once, [(x, tmp_path/'died') for x in range(4)], n_jobs=2, backend='ray') == [0, 1, 4, 9]

    def test_a_ray_task_that_raises_ends_the_run_with_its_own_error(self, local_ray):
        with pytest.raises(ValueError, match='^this task fails$'):
            map_tasks(fail_or_sleep, [(False,), (True,)], n_jobs=2, backend='ray')
        t0 = time.monotonic()  # the sleeping task was cancelled: both CPUs free again within seconds, not a minute
        while time.monotonic() - t0 < 20 and ray.available_resources().get('CPU', 0) < 2: time.sleep(0.2)
        assert ray.available_resources().get('CPU', 0) == 2

def run_watching(cmd:list, timeout:float=600) -> tuple:
    "Run `cmd`; (return code, stdout, stderr, every process seen below it while it ran)."
    seen, t0 = set(), time.monotonic()
    with subprocess.Popen(cmd, env=env(), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        import threading
        out = {}
        reader = threading.Thread(target=lambda: out.update(zip(('stdout', 'stderr'), proc.communicate())))
        reader.start()
        while proc.poll() is None and time.monotonic() - t0 < timeout:
            seen |= descendants(proc.pid); time.sleep(0.2)
        if proc.poll() is None: proc.kill()
        reader.join()
    return proc.returncode, out['stdout'], out['stderr'], seen

@needs_ray
@linux
def test_walkforward_on_ray_gives_the_local_pools_signals_and_leaves_no_ray_process(tmp_path):
    local = walkforward(*WF, '--no-cache', '--signals', str(tmp_path/'local.csv'))
    assert local.returncode == 0, local.stderr
    code, out, err, ray_procs = run_watching([sys.executable, '-m', 'deepregime.walkforward', *WF, '--backend', 'ray',
                                              '--cache-dir', str(tmp_path/'cache'), '--signals', str(tmp_path/'ray.csv')])
    assert code == 0, err
    assert 'on Ray' in out
    a, b = (pd.read_csv(tmp_path/f'{n}.csv') for n in ('local', 'ray'))
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert len(list((tmp_path/'cache').rglob('*.json'))) > 0  # the Ray workers wrote the shared fold cache
    assert len(ray_procs) >= 3  # a local Ray instance ran below the command: GCS server, raylet, workers
    assert gone_within(ray_procs, 120) == [], 'processes of the local Ray instance outlived the run'

@needs_ray
def test_walkforward_joins_a_running_ray_cluster_and_leaves_it_running(tmp_path):
    "`--ray-address auto` joins the cluster `ray start --head` started on this machine; the run only disconnects."
    ray_cli = [str(Path(sys.executable).parent/'ray')]
    start = subprocess.run([*ray_cli, 'start', '--head', '--num-cpus', '2', '--port', '0', '--include-dashboard=false',
                            '--disable-usage-stats'], env=env(), capture_output=True, text=True, timeout=120)
    try:
        assert start.returncode == 0, start.stderr
        args = ['--start', '1996-01-01', '--end', '2001-12-31', '--first-test', '2000-01-01', '--methods', 'buy_hold',
                'hmm', 'jump_model', '--no-cache']
        local = walkforward(*args, '--signals', str(tmp_path/'local.csv'))
        assert local.returncode == 0, local.stderr
        on_cluster = walkforward(*args, '--backend', 'ray', '--ray-address', 'auto', '--signals', str(tmp_path/'ray.csv'))
        assert on_cluster.returncode == 0, on_cluster.stderr
        assert 'on Ray' in on_cluster.stdout and 'worker process' not in on_cluster.stdout  # the cluster's CPUs
        a, b = (pd.read_csv(tmp_path/f'{n}.csv') for n in ('local', 'ray'))
        pd.testing.assert_frame_equal(a, b, check_exact=True)
        still_up = "import ray; ray.init('auto', logging_level='ERROR'); print(ray.cluster_resources()['CPU'])"
        status = subprocess.run([sys.executable, '-c', still_up], env=env(), capture_output=True, text=True, timeout=120)
        assert status.stdout.strip() == '2.0', status.stderr  # the cluster still runs: the command only disconnected
    finally:
        subprocess.run([*ray_cli, 'stop', '--force'], env=env(), capture_output=True, timeout=120)

@needs_ray
def test_forecast_on_ray_gives_the_local_pools_forecasts(tmp_path):
    args = ['--end', '2007-12-31', '--horizon', '5', '--methods', 'persistence', 'logistic', 'garch_logistic',
            'transformer', '--epochs', '1', '--jobs', '2']
    for backend in ('local', 'ray'):
        r = subprocess.run([sys.executable, '-m', 'deepregime.forecasting', *args, '--backend', backend,
                            '--forecasts', str(tmp_path/f'{backend}.csv')], env=env(), cwd=ROOT, capture_output=True,
                           text=True, timeout=600)
        assert r.returncode == 0, r.stderr
    a, b = (pd.read_csv(tmp_path/f'{n}.csv') for n in ('local', 'ray'))
    assert a['date'].str[:4].unique().tolist() == ['2005', '2006', '2007']  # three folds, three tasks
    pd.testing.assert_frame_equal(a, b, check_exact=True)

@needs_ray
@linux
def test_killing_the_driver_stops_every_ray_process(tmp_path):
    proc = subprocess.Popen([sys.executable, '-m', 'deepregime.walkforward', *WF, '--backend', 'ray',
                             '--cache-dir', str(tmp_path/'cache')], env=env(), cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        t0 = time.monotonic()
        while time.monotonic() - t0 < 120 and proc.poll() is None:
            if list((tmp_path/'cache').rglob('*.json')): break  # Ray workers are fitting and storing
            time.sleep(0.1)
        assert proc.poll() is None, 'the run ended before it could be killed'
        ray_procs = descendants(proc.pid)
        workers = [p for p in ray_procs if cmdline(p).startswith(('ray::_task', 'ray::IDLE'))]
        assert workers and len(ray_procs) > len(workers)  # the task workers, and the GCS, raylet and agents
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
        assert gone_within(workers, 15) == [], 'Ray workers kept running after their driver died'
        # the GCS server and the raylet share the driver's fate; Ray's per-node agents notice within a minute or two
        assert gone_within(ray_procs, 180) == [], 'Ray processes survived their driver'
    finally:
        if proc.poll() is None: proc.kill()
