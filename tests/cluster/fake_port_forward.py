"""Stands in for `kubectl port-forward` in the `make run-local` rehearsal: serves on the local port what
the cluster would serve there (KFP's API stand-in, or an S3 store with KFP's `mlpipeline` bucket). Only the
services KFP 2.17's platform-agnostic install has are served; any other name fails the forward."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))


def main(service: str, port: int, outcome: str) -> None:
    if service == "ml-pipeline-ui":
        from kfp_standin import KfpStandIn

        server = KfpStandIn(port=port)
        server.state.outcome = outcome
        server.__enter__()
    elif service == "seaweedfs":  # KFP 2.17's object store (platform-agnostic); there is no minio-service
        import boto3
        from moto.server import ThreadedMotoServer

        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
        s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                          aws_access_key_id="minio", aws_secret_access_key="minio123")
        s3.create_bucket(Bucket="mlpipeline")

        listing = Path(os.environ["FAKE_DIR"], "s3-objects.txt")
        signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
        while True:  # what was uploaded so far, for the test to read
            keys = [o["Key"] for o in s3.list_objects_v2(Bucket="mlpipeline").get("Contents", [])]
            listing.with_suffix(".tmp").write_text("\n".join(keys))
            listing.with_suffix(".tmp").replace(listing)
            time.sleep(0.2)
    else:
        raise SystemExit(f"fake port-forward: unknown service {service}")
    while True:  # until the script under test kills us
        time.sleep(1)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3])
