"""Run every benchmark: python -m bench [NAME ...]. Each prints its measurements, the baseline
measured in the same run, the ratios and PASS/FAIL against its target."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import time

ORDER = ("engine", "classify", "roster", "imap", "gmail", "outlook", "tui", "team")


def main() -> int:
    names = sys.argv[1:] or [n for n in ORDER if importlib.util.find_spec(f"bench.{n}") is not None]
    failed = []
    for name in names:
        print(f"\n=== bench.{name} ===", flush=True)
        started = time.perf_counter()
        code = subprocess.call([sys.executable, "-m", f"bench.{name}"])
        print(f"(bench.{name}: {time.perf_counter() - started:.1f}s, {'ok' if code == 0 else 'FAIL'})", flush=True)
        if code:
            failed.append(name)
    print(
        f"\n{len(names) - len(failed)} of {len(names)} benchmarks met their targets"
        + (f"; missed: {', '.join(failed)}" if failed else "")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
