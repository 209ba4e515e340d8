"""Write ordinary log lines and Python tracebacks to stderr, the way a Python
service in a container does. Generator of the python testdata; run it with
`python3 trace.py MODE 2>&1`. Modes: logged (logging.exception with chained
exceptions), uncaught (an uncaught exception with 3.11+ carets), group (an
uncaught ExceptionGroup), syntax (a script with a SyntaxError: Python prints
no "Traceback" line for it)."""

import logging
import subprocess
import sys

logging.basicConfig(
    stream=sys.stderr,
    level=logging.INFO,
    format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    datefmt="2024-05-01 12:00:00",
)
log = logging.getLogger("orders")


class OrderError(Exception):
    pass


def parse(raw):
    return {"id": int(raw["id"]), "qty": raw["qty"]}


def load(raw):
    try:
        return parse(raw)
    except KeyError as e:
        raise OrderError(f"order {raw!r} is incomplete") from e


def handle(raw):
    try:
        return load(raw)
    except OrderError:
        cleanup = None
        cleanup.close()  # fails while handling: "During handling of ..."


def main(mode):
    print(f"INFO starting mode={mode}", file=sys.stderr)
    if mode == "logged":
        try:
            handle({"id": "42"})
        except Exception:
            log.exception("request failed")
        print("INFO next request", file=sys.stderr)
        try:
            parse({"id": "x", "qty": 1})
        except ValueError:
            log.warning("bad id, skipping", exc_info=True)
        print("INFO done", file=sys.stderr)
    elif mode == "uncaught":
        rows = [{"id": "1", "qty": 2}, {"id": "2", "qty": 0}]
        print("INFO computing", file=sys.stderr)
        print(sum(r["qty"] / rows[1]["qty"] for r in rows))
    elif mode == "group":
        errors = []
        for raw in ({"id": "1"}, {"id": "y", "qty": 1}):
            try:
                parse(raw)
            except Exception as e:
                errors.append(e)
        raise ExceptionGroup("2 orders failed", errors)
    elif mode == "syntax":
        sys.stderr.flush()
        subprocess.run([sys.executable, "-c", "import sys\ndef f(:\n    pass\n"])
        print("INFO done", file=sys.stderr)
    else:
        raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "logged")
