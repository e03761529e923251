"""The `ripple` command; subcommands register themselves on `app`."""

import typer

app = typer.Typer(
    name="ripple",
    help="Run AWS Lambda handlers unchanged on Celery + Redis, warm in milliseconds.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
