import subprocess
import sys

import pytest

from agents.tracking import DisabledRun, init_wandb


def test_a_disabled_run_takes_the_scripts_calls_without_importing_wandb(tmp_path):
    # a fresh interpreter: wandb may already be imported in this one
    code = (
        "import sys\n"
        "from agents.tracking import init_wandb\n"
        f"run = init_wandb('p', {{'a': 1}}, 'disabled', dir={str(tmp_path)!r})\n"
        "run.define_metric('*', step_metric='global_step'); run.log({'loss': 1.0}, step=3); run.summary.update({'x': 2}); run.finish()\n"
        "print(run.disabled, run.id, run.summary, 'wandb' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["True", "None", "{'x':", "2}", "False"]


def test_unknown_wandb_mode_is_named():
    with pytest.raises(ValueError, match="'sometimes'"):
        init_wandb("p", {}, "sometimes")
    assert isinstance(init_wandb("p", {}, "disabled"), DisabledRun)
