"""Train a Stable-Baselines3 baseline (PPO, A2C or RecurrentPPO) on a glimpse environment.

The generic-RL view of the task: the policy's features extractor is the RAM agent's glimpse network
(:class:`agents.sb3.GlimpseExtractor`); actions are flattened by :mod:`glimpse_env.wrappers`;
training runs on the native vector env through :class:`agents.sb3.SB3VecEnv`. Every
``--eval-freq`` steps SB3's ``EvalCallback`` scores the policy on the validation split and keeps the
best model; at the end the best (or final) model is evaluated on the whole test split, one rollout
per image, and the last line printed is ``test_error=<percent>``: as ``scripts/evaluate.py`` scores
the RAM agent, locations are sampled from the policy (seeded) and the class is the most likely one;
``result.json`` also has ``test_error_mode_path``, with the most likely locations.

Examples::

    python scripts/train_sb3.py --algo ppo --env GlimpseMNIST-v0 --max-minutes 12 \\
        --n-steps 32 --batch-size 512 --n-epochs 4
    python scripts/train_sb3.py --algo recurrent_ppo --env GlimpseClutteredMNIST-v0 --num-envs 64
    python scripts/train_sb3.py --algo a2c --total-timesteps 20000 --train-subset 1000 \\
        --test-images 500 --wandb-mode disabled        # a quick smoke run

Written to ``--out`` (default ``runs/<env>__<algo>__<seed>__<time>``): ``checkpoint.zip`` (every
``--checkpoint-freq`` steps), ``best_model.zip`` and ``evaluations.npz`` (``EvalCallback``),
``model.zip`` (final), ``progress.csv``, ``result.json``, and the W&B run under ``wandb/`` (offline
by default; upload with ``wandb sync``). ``*.zip`` files load with ``PPO.load(path)`` etc.; they
are SB3's format, which unpickles objects: load only files you trust.

Hyper-parameters left at ``none`` take the algorithm's SB3 default.
"""

from __future__ import annotations

import json
import logging
import shlex
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import torch
from sb3_contrib import RecurrentPPO
from stable_baselines3 import A2C, PPO
from stable_baselines3.common.callbacks import CallbackList, EvalCallback
from stable_baselines3.common.logger import CSVOutputFormat, Logger

import glimpse_env  # registers the environment ids
from agents.cli import check_at_least, check_device, check_positive, parse_config, run_main
from agents.sb3 import AtomicCheckpoint, GlimpseExtractor, TimeBudget, WandbWriter, evaluate, make_sb3_env, save_model_atomic
from agents.tracking import init_wandb

ALGOS = {
    "ppo": (PPO, "MultiInputPolicy"),
    "a2c": (A2C, "MultiInputPolicy"),
    "recurrent_ppo": (RecurrentPPO, "MultiInputLstmPolicy"),
}


@dataclass
class Args:
    """Train PPO, A2C or RecurrentPPO on a glimpse environment and report its test error."""

    algo: Literal["ppo", "a2c", "recurrent_ppo"] = "ppo"
    """the SB3 algorithm (recurrent_ppo is sb3-contrib's, with an LSTM policy)"""
    env: str = "GlimpseMNIST-v0"
    """a registered glimpse env id"""
    total_timesteps: int = 1_000_000
    """env steps to train for (summed over sub-envs); --max-minutes may stop earlier"""
    num_envs: int = 64
    """parallel episodes in the training vector env"""
    seed: int = 0
    """seed of the model and of the training env (sub-env i gets seed + i)"""
    out: str | None = None
    """run directory; none means runs/<env>__<algo>__<seed>__<unix time>"""
    wandb_mode: Literal["disabled", "offline", "online"] = "offline"
    """W&B mode; offline needs no account"""
    wandb_project: str = "glimpse-attention"
    """W&B project name"""
    max_minutes: float | None = None
    """wall-clock budget for learn(); none means no limit"""
    max_cpu_minutes: float | None = None
    """CPU-time budget for learn() (this process; fair on a shared machine); none means no limit"""
    train_subset: int | None = None
    """train on the first N training images only; none means all 54,000"""
    action: Literal["multidiscrete", "box"] = "multidiscrete"
    """action encoding: location cell on a grid + class, or 2 coordinates + class scores (argmax)"""
    grid_size: int = 7
    """cells per side of the location grid (multidiscrete only)"""
    frame_stack: int = 1
    """stack the last N observations (VecFrameStack); 1 means none; gives feed-forward policies memory"""
    learning_rate: float | None = None
    """optimiser step size; none means the algorithm's default"""
    n_steps: int | None = None
    """steps per sub-env per rollout; none means the algorithm's default"""
    batch_size: int | None = None
    """minibatch size (ppo, recurrent_ppo); none means the default"""
    n_epochs: int | None = None
    """passes over each rollout (ppo, recurrent_ppo); none means the default"""
    gamma: float | None = None
    """discount; none means the default (0.99)"""
    gae_lambda: float | None = None
    """GAE lambda; none means the default"""
    ent_coef: float | None = None
    """entropy bonus weight; none means the default"""
    net_arch: str = "64,64"
    """hidden widths of the policy and value heads after the features (comma-separated, empty for none)"""
    lstm_hidden_size: int = 256
    """LSTM width (recurrent_ppo), as the RAM core's 256"""
    shared_lstm: bool = False
    """recurrent_ppo: one LSTM for actor and critic (about half the cost) instead of one each"""
    what_size: int = 128
    """glimpse network: width of the 'what' pathway h_g"""
    where_size: int = 128
    """glimpse network: width of the 'where' pathway h_l"""
    glimpse_out: int = 256
    """glimpse network: width of g_t, the features"""
    pixel_mean: float = 0.0
    """glimpse network: subtracted from the pixels (the RAM trainer's default is MNIST's 0.1307; the reported SB3 runs used 0)"""
    pixel_std: float = 1.0
    """glimpse network: pixels are divided by it after the mean (RAM trainer: 0.3081; the reported SB3 runs: 1)"""
    eval_freq: int = 100_000
    """validate every N env steps (EvalCallback)"""
    eval_episodes: int = 1_000
    """validation episodes per evaluation"""
    checkpoint_freq: int = 200_000
    """write checkpoint.zip every N env steps; 0 disables"""
    test_images: int | None = None
    """evaluate on the first N test images; none means the whole test split (10,000)"""
    test_num_envs: int = 1_000
    """parallel episodes for the test evaluation"""
    test_model: Literal["best", "final"] = "best"
    """test the best-on-validation model (if one was saved) or the final one"""
    threads: int = 1
    """torch CPU threads"""
    device: str = "cpu"
    """torch device of the policy"""

    def __post_init__(self):
        check_at_least(self, 1, "total_timesteps", "num_envs", "grid_size", "frame_stack", "eval_episodes", "test_num_envs", "threads")
        check_at_least(self, 1, "train_subset", "test_images", allowed=" (or none: the whole split)")
        check_at_least(self, 1, "eval_freq", allowed=" env steps")
        check_at_least(self, 0, "checkpoint_freq", allowed=" env steps (0: no checkpoint.zip)")
        check_positive(self, "learning_rate", "pixel_std")
        check_positive(self, "max_minutes", "max_cpu_minutes", allowed=" (or none: no budget)")
        glimpse_env.check_env_id(self.env)
        check_device(self.device)
        try:
            self.hidden_layers()
        except ValueError:
            raise ValueError(f"--net-arch must be comma-separated positive integers like 64,64, got {self.net_arch!r}") from None
        if self.algo == "a2c" and (self.batch_size is not None or self.n_epochs is not None):
            raise ValueError("--batch-size and --n-epochs apply to ppo and recurrent_ppo; A2C uses each rollout once, whole")

    def hidden_layers(self) -> list[int]:
        layers = [int(w) for w in self.net_arch.split(",") if w.strip()]
        if any(w < 1 for w in layers):
            raise ValueError(self.net_arch)
        return layers


def build_model(args: Args, env):
    algo_cls, policy = ALGOS[args.algo]
    extractor = dict(what_size=args.what_size, where_size=args.where_size, output_size=args.glimpse_out,
                     pixel_mean=args.pixel_mean, pixel_std=args.pixel_std)  # fmt: skip
    policy_kwargs = dict(features_extractor_class=GlimpseExtractor, features_extractor_kwargs=extractor,
                         net_arch=args.hidden_layers())  # fmt: skip
    if args.algo == "recurrent_ppo":
        policy_kwargs.update(lstm_hidden_size=args.lstm_hidden_size, shared_lstm=args.shared_lstm,
                             enable_critic_lstm=not args.shared_lstm)  # fmt: skip
    hyper = {name: getattr(args, name) for name in
             ("learning_rate", "n_steps", "batch_size", "n_epochs", "gamma", "gae_lambda", "ent_coef")}  # fmt: skip
    hyper = {k: v for k, v in hyper.items() if v is not None}
    return algo_cls(policy, env, policy_kwargs=policy_kwargs, seed=args.seed, device=args.device, verbose=0, **hyper)


def main(args: Args) -> float:
    torch.set_num_threads(args.threads)
    command = "python " + " ".join(shlex.quote(a) for a in sys.argv)
    run_name = f"{args.env}__{args.algo}__{args.seed}__{int(time.time())}"
    out = Path(args.out or Path("runs") / run_name)
    out.mkdir(parents=True, exist_ok=True)

    train_env = make_sb3_env(args.env, args.num_envs, "train", args.action, args.grid_size, args.frame_stack,
                             max_images=args.train_subset)  # fmt: skip
    eval_env = make_sb3_env(args.env, min(args.eval_episodes, 100), "val", args.action, args.grid_size,
                            args.frame_stack, seed=args.seed + 1_000_000)  # fmt: skip
    model = build_model(args, train_env)

    run = init_wandb(args.wandb_project, {**asdict(args), "command": command}, args.wandb_mode, run_name, out)
    run.define_metric("*", step_metric="global_step")
    outputs = [CSVOutputFormat(str(out / "progress.csv"))] + ([] if run.disabled else [WandbWriter()])
    model.set_logger(Logger(str(out), outputs))
    budget = TimeBudget(args.max_minutes, args.max_cpu_minutes)
    eval_callback = EvalCallback(eval_env, n_eval_episodes=args.eval_episodes, eval_freq=max(args.eval_freq // args.num_envs, 1),
                                 best_model_save_path=str(out), log_path=str(out), deterministic=True, verbose=1)  # fmt: skip
    callbacks = [
        eval_callback,
        AtomicCheckpoint(out / "checkpoint.zip", args.checkpoint_freq),
        budget,
    ]
    if not run.disabled:
        from wandb.integration.sb3 import WandbCallback

        callbacks.append(WandbCallback(verbose=0))
    log_interval = 100 if args.algo == "a2c" else 1
    start, start_cpu = time.monotonic(), time.process_time()
    model.learn(args.total_timesteps, callback=CallbackList(callbacks), log_interval=log_interval)
    train_seconds, train_cpu_seconds = time.monotonic() - start, time.process_time() - start_cpu
    save_model_atomic(model, out / "model.zip")

    tested = model
    best = out / "best_model.zip"
    if args.test_model == "best" and best.is_file():
        tested = ALGOS[args.algo][0].load(best, device=args.device)
    test_env = make_sb3_env(args.env, args.test_num_envs, "test", args.action, args.grid_size, args.frame_stack)
    test = evaluate(tested, test_env, args.test_images, locations="sample", seed=args.seed)
    test_mode = evaluate(tested, test_env, args.test_images, locations="mode")
    result = {
        "algo": args.algo, "env": args.env, "test_error": test["error"], "test_error_mode_path": test_mode["error"],
        "test_images": test["n_images"],
        "tested_model": "best" if tested is not model else "final",
        "best_val_error": 100.0 * (1.0 - eval_callback.best_mean_reward) if eval_callback.evaluations_results else None,
        "steps": int(model.num_timesteps),
        "train_seconds": round(train_seconds, 1), "train_cpu_seconds": round(train_cpu_seconds, 1),
        "stopped_by": budget.stopped_by or "total_timesteps",
        "threads": args.threads, "command": command,
    }  # fmt: skip
    (out / "result.json").write_text(json.dumps(result, indent=2) + "\n")
    run.summary.update({"test/error": test["error"], "test/error_mode_path": test_mode["error"], "test/n_images": test["n_images"]})
    run.finish()
    for env in (train_env, eval_env, test_env):
        env.close()
    print(json.dumps(result))
    print(f"test_error={test['error']:.2f}")
    return test["error"]


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    run_main(main, parse_config(Args))
