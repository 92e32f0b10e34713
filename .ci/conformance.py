"""Runs scim2-tester's checks against a SCIM base URL and prints one line per failed check, then
"N passed, M failed" as the last line. Exit status 1 when a check failed.

Usage: python conformance.py BASE_URL TOKEN
"""

import sys
import traceback

from httpx2 import Client
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server

PASSED = {Status.SUCCESS, Status.COMPLIANT, Status.ACCEPTABLE}


def main(base_url: str, token: str) -> int:
    http = Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    print(f"scim2-tester against {base_url}", flush=True)
    passed = failed = skipped = 0
    try:
        results = check_server(SyncSCIMClient(http))
    except Exception:
        print("FAIL  the checker stopped before finishing:")
        print(traceback.format_exc())
        results, failed = [], 1
    for result in results:
        label = f"[{result.resource_type}] {result.title}" if result.resource_type else str(result.title)
        if result.status in PASSED:
            passed += 1
        elif result.status == Status.SKIPPED:
            skipped += 1
        else:
            failed += 1
            print(f"FAIL  {label} ({result.status.name})")
            if result.reason:
                print(f"      {result.reason}")
    summary = f"{passed} passed, {failed} failed"
    if skipped:
        summary += f", {skipped} skipped"
    print(summary, flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2]))
