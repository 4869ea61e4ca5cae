"""Load test: wrk (Debian's package) with many connections against a running `kb serve`.

wrk is a C load generator: on a 2-core machine a Python client would spend the cores the server needs.
A Lua script sends the bench queries in turn and prints wrk's summary as JSON, so nothing is scraped
from its human-readable report.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import urlencode

_SCRIPT = """
local paths = {%(paths)s}
local counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter %% #paths) + 1])
end
done = function(summary, latency, requests)
  local errors = summary.errors
  io.write("KB-JSON ")
  io.write(string.format(
    '{"requests": %%d, "seconds": %%f, "connect_errors": %%d, "read_errors": %%d, "write_errors": %%d, '
    .. '"status_errors": %%d, "timeouts": %%d, "p50_ms": %%f, "p90_ms": %%f, "p99_ms": %%f, "max_ms": %%f}\\n',
    summary.requests, summary.duration / 1e6, errors.connect, errors.read, errors.write, errors.status,
    errors.timeout, latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
end
"""


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def run_wrk(base: str, queries: list[tuple[str, str]], *, connections: int = 16, seconds: int = 30) -> dict[str, float]:
    """Requests, throughput, latency percentiles and every kind of error, from one wrk run."""
    paths = ", ".join(json.dumps("/v1/search?" + urlencode({"q": q, "locale": locale})) for q, locale in queries)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_SCRIPT % {"paths": paths})
    try:
        output = subprocess.run(
            ["wrk", f"--connections={connections}", f"--threads={min(2, connections)}", f"--duration={seconds}s",
             "--timeout=10s", f"--script={script.name}", base],
            check=True, capture_output=True, text=True,
        ).stdout
    finally:
        Path(script.name).unlink()
    line = next(line for line in output.splitlines() if line.startswith("KB-JSON "))
    result = json.loads(line.removeprefix("KB-JSON "))
    result["connections"] = connections
    result["requests_per_s"] = result["requests"] / result["seconds"]
    result["errors"] = sum(result[k] for k in ("connect_errors", "read_errors", "write_errors", "status_errors", "timeouts"))
    return result
