"""Command lines built from config dataclasses: one ``--flag`` per field, its doc line as the help.

A field's help is the comment on the line after it (``#: ...`` or a bare string literal, as in
CleanRL's ``Args``), read from the source, so the dataclass stays the single place a setting is
described::

    @dataclass
    class Args:
        lr: float = 1e-3
        '''learning rate of Adam'''

    args = parse_config(Args)            # python script.py --lr 3e-4
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import inspect
import os
import sys
import textwrap
import typing
from typing import Any, Callable, Sequence, TypeVar

__all__ = ["UsageError", "check_at_least", "check_device", "check_positive", "field_docs", "parse_config", "run_main"]

T = TypeVar("T")


class UsageError(ValueError):
    """A setting that cannot work here (no such device, a batch larger than the data): :func:`run_main`
    prints the message, without a traceback, as it does for a missing or wrong checkpoint or data file."""


def check_at_least(config: Any, low: int, *names: str, allowed: str = "") -> None:
    """Raise ``ValueError("--NAME must be >= LOW ALLOWED, got VALUE")`` for the first of the config's
    fields ``names`` below ``low``. A field at ``None`` passes (an optional setting, which ``allowed``
    should describe: ``" (or none: the whole split)"``)."""
    for name in names:
        value = getattr(config, name)
        if value is not None and value < low:
            raise ValueError(f"--{name.replace('_', '-')} must be >= {low}{allowed}, got {value}")


def check_positive(config: Any, *names: str, allowed: str = "") -> None:
    """Like :func:`check_at_least`, for settings that must be ``> 0`` (rates, budgets); NaN fails."""
    for name in names:
        value = getattr(config, name)
        if value is not None and not value > 0:
            raise ValueError(f"--{name.replace('_', '-')} must be > 0{allowed}, got {value}")


def check_device(device: str) -> str:
    """``device`` if torch can run on it here, else a :class:`UsageError` saying why and what to do."""
    import torch

    try:
        parsed = torch.device(device)
    except RuntimeError:
        raise UsageError(f"unknown device {device!r}: use cpu, cuda or cuda:N") from None
    if parsed.type == "cuda":
        if not torch.cuda.is_available():
            build = "a CPU-only build" if torch.version.cuda is None else f"built for CUDA {torch.version.cuda}"
            raise UsageError(f"device {device!r}: torch {torch.__version__} ({build}) sees no CUDA GPU here; use --device cpu")
        if parsed.index is not None and parsed.index >= torch.cuda.device_count():
            raise UsageError(f"device {device!r}: only {torch.cuda.device_count()} CUDA device(s) visible (cuda:0..)")
    elif parsed.type != "cpu":
        raise UsageError(f"device {device!r}: this project runs on cpu or cuda")
    return device


def run_main(main: Callable[..., Any], *args: Any) -> Any:
    """``main(*args)`` for a script's entry line: a user's mistake found while running (a missing,
    corrupt or wrong-kind checkpoint, missing data files, a :class:`UsageError`) ends the script
    with ``error: <message>`` and exit status 2 instead of a traceback."""
    from agents.checkpoint import CheckpointError
    from glimpse_env.mnist import DataError

    try:
        return main(*args)
    except (UsageError, CheckpointError, DataError) as err:
        print(f"{os.path.basename(sys.argv[0])}: error: {err}", file=sys.stderr)
        sys.exit(2)


def field_docs(cls: type) -> dict[str, str]:
    """``{field: doc}`` from the string literal that follows each field in the class body."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    except (OSError, TypeError):
        return {}
    body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
    docs = {}
    for node, following in zip(body, body[1:]):
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
        ):
            docs[node.target.id] = " ".join(following.value.value.split())
    return docs


def _parse_bool(text: str) -> bool:
    lowered = text.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def _converter(annotation: Any):
    """``(type, choices)`` for argparse from a field annotation (str, int, float, bool, Optional, Literal)."""
    origin = typing.get_origin(annotation)
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if origin is typing.Literal:
        return type(args[0]), list(args)
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)) and len(args) == 1:
        inner, choices = _converter(args[0])

        def optional(text: str):
            return None if text.lower() == "none" else inner(text)

        return optional, choices
    if annotation is bool:
        return _parse_bool, None
    if annotation in (int, float, str):
        return annotation, None
    raise TypeError(f"unsupported config field type {annotation!r}")


def parse_config(cls: type[T], argv: Sequence[str] | None = None, description: str | None = None,
                 positional: Sequence[str] = ()) -> T:  # fmt: skip
    """Parse ``argv`` (default ``sys.argv[1:]``) into an instance of the dataclass ``cls``.

    Field ``max_minutes`` becomes ``--max-minutes``; bools take ``--flag true|false`` (``--flag``
    alone means true); ``Optional`` fields take ``none``; ``Literal`` fields list their choices.
    Fields named in ``positional`` are taken as positional arguments instead (optional ones if
    they have a default). The dataclass's own ``__post_init__`` validates the values.
    """
    hints = typing.get_type_hints(cls)
    docs = field_docs(cls)
    parser = argparse.ArgumentParser(
        description=description or (inspect.getdoc(cls) or "").split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    for field in dataclasses.fields(cls):
        if not field.init:
            continue
        convert, choices = _converter(hints[field.name])
        default = field.default if field.default is not dataclasses.MISSING else field.default_factory()  # type: ignore[misc]
        # argparse %-formats help strings (for %(default)s): a literal "4.49 %" in a doc broke --help
        kwargs: dict[str, Any] = dict(type=convert, default=default, help=docs.get(field.name, " ").replace("%", "%%"))
        if field.name in positional:
            parser.add_argument(field.name, nargs="?", metavar=field.name.upper(), **kwargs)
            continue
        flag = "--" + field.name.replace("_", "-")
        kwargs["dest"] = field.name
        if choices:
            kwargs["choices"] = choices
        if hints[field.name] is bool:
            kwargs.update(nargs="?", const=True, metavar="{true,false}")
        parser.add_argument(flag, **kwargs)
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--"]:  # `torchrun script.py -- --flag ...` keeps the flags from torchrun's own parser
        argv = argv[1:]
    namespace = parser.parse_args(argv)
    try:
        return cls(**vars(namespace))
    except (ValueError, TypeError) as err:
        parser.error(str(err))
        raise  # unreachable: parser.error exits
