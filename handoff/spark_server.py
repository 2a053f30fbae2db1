"""A local Spark Connect server, for the parity tests, the benchmark and trying Spark mode.

The server is the full `pyspark` package (the JVM jars) in its own virtualenv, `.venv/spark`
(made by `make .venv/spark/.installed`): the app's virtualenv holds only the thin
`pyspark-client`, and the two packages install the same `pyspark` module, so they cannot
share one. It listens on 127.0.0.1 only.

    .venv/bin/python -m handoff.spark_server --port 15002   # until Ctrl-C
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPARK_VENV = Path(os.environ.get("HANDOFF_SPARK_VENV", ROOT / ".venv" / "spark"))
CONNECT_SERVER = "org.apache.spark.sql.connect.service.SparkConnectServer"
# Spark logs every task at INFO; warnings and errors are what a reader of the log needs.
LOG4J = """rootLogger.level = warn
rootLogger.appenderRef.stdout.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n%ex
"""


def spark_home() -> Path:
    """The full pyspark package in the server's virtualenv (its bin/ and jars/)."""
    found = sorted(SPARK_VENV.glob("lib/python*/site-packages/pyspark/bin/spark-submit"))
    if not found:
        raise FileNotFoundError(
            f"no Spark server in {SPARK_VENV}: run `make .venv/spark/.installed` (it installs "
            "the full pyspark package there; Java 17 or later must be on the PATH)")
    return found[-1].parent.parent


def server_command(port: int, folder: Path, memory: str = "1g",
                   cores: int = 2) -> list[str]:
    """spark-submit starting a Connect server in local mode on 127.0.0.1:port."""
    submit = spark_home() / "bin" / "spark-submit"
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        raise FileNotFoundError("Spark needs Java 17 or later: `apt-get install -y "
                                "default-jre-headless` (scripts/ensure-java.sh does it)")
    conf = {
        "spark.connect.grpc.binding.address": "127.0.0.1",
        "spark.connect.grpc.binding.port": str(port),
        "spark.driver.bindAddress": "127.0.0.1",
        "spark.driver.host": "127.0.0.1",
        "spark.ui.enabled": "false",
        "spark.sql.warehouse.dir": str(folder / "warehouse"),
        # small local data: few shuffle partitions start and finish faster
        "spark.sql.shuffle.partitions": str(max(2, cores)),
        "spark.sql.session.timeZone": "UTC",
    }
    (folder / "log4j2.properties").write_text(LOG4J, encoding="utf-8")
    args = [str(submit), "--class", CONNECT_SERVER, "--master", f"local[{cores}]",
            "--driver-memory", memory, "--name", "Handoff Spark Connect",
            "--driver-java-options",
            f"-Dlog4j2.configurationFile=file:{folder / 'log4j2.properties'}"]
    for key, value in conf.items():
        args += ["--conf", f"{key}={value}"]
    return [*args, "spark-internal"]


def wait_for_port(port: int, proc: subprocess.Popen, timeout: float, log: Path) -> None:
    """Until the server accepts connections; an error naming its log if it never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the Spark Connect server stopped (exit {proc.returncode}): "
                               f"see {log}")
        with socket.socket() as s:
            s.settimeout(0.5)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.3)
    raise RuntimeError(f"the Spark Connect server did not listen on {port} within "
                       f"{timeout:.0f} s: see {log}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def local_server(folder: Path, port: int | None = None, memory: str = "1g",
                 timeout: float = 120) -> Iterator[str]:
    """A Spark Connect server for the `with` block; yields its `sc://` address. Its
    warehouse and log are kept in `folder`."""
    port = port or free_port()
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / "spark-connect.log"
    with open(log, "wb") as out:
        env = {**os.environ, "SPARK_HOME": str(spark_home())}
        proc = subprocess.Popen(server_command(port, folder, memory), cwd=folder,
                                env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
        try:
            wait_for_port(port, proc, timeout, log)
            yield f"sc://127.0.0.1:{port}"
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=15002)
    parser.add_argument("--folder", type=Path, default=ROOT / "spark-data",
                        help="where the warehouse (the loaded tables) and the log are kept")
    parser.add_argument("--memory", default="4g", help="driver memory, e.g. 4g")
    args = parser.parse_args()
    # a plain `kill` stops the server too (the with-block's cleanup runs on SystemExit)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with local_server(args.folder, args.port, args.memory) as url:
        print(f"Spark Connect listening at {url} (log: {args.folder}/spark-connect.log); "
              "Ctrl-C stops it", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
