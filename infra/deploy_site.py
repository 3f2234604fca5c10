"""`make deploy-site STACK=<name>`: put the built web app (web/dist) into a deployed stack's site bucket.

After `sam deploy`, it reads the stack's outputs, writes the app's ``config.json`` (the API's URL, each pool's
hosted sign-in domain and app client, the callback URL: nothing secret), uploads ``web/dist`` under ``app/``
(hashed assets cached for a year, the pages and config checked on every load) and asks CloudFront to drop its
copies of the pages. Needs AWS credentials, like `sam deploy`.

    python -m infra.deploy_site --stack clinic-dev [--dist web/dist]
"""

from __future__ import annotations

import argparse
import json
import mimetypes
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PREFIX = "app/"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"


def site_config(outputs: dict[str, str]) -> dict[str, Any]:
    """The app's config.json for a stack, from its outputs (see infra/site.py and infra/base.yaml)."""
    site = outputs["SiteUrl"].rstrip("/") + "/"
    return {
        "auth": "cognito",
        "api_url": outputs["ApiUrl"],
        "redirect_uri": site + "callback.html",
        "pools": {
            "workforce": {
                "domain": outputs["WorkforceSignInDomain"],
                "client_id": outputs["WorkforceUserPoolClientId"],
            },
            "patients": {"domain": outputs["PatientSignInDomain"], "client_id": outputs["PatientUserPoolClientId"]},
        },
    }


def upload(s3: Any, bucket: str, dist: Path, config: dict[str, Any]) -> list[str]:
    """Every file of ``dist`` and ``config.json`` under ``app/``; the keys written, pages last (so a page
    never names an asset that is not there yet)."""
    if not (dist / "index.html").is_file():
        raise FileNotFoundError(f"{dist}/index.html: build the app first (make web)")
    files = sorted(p for p in dist.rglob("*") if p.is_file())
    assets = [p for p in files if p.relative_to(dist).parts[0] == "assets"]
    pages = [p for p in files if p not in assets]
    written = []
    for path in [*assets, *pages]:
        key = PREFIX + path.relative_to(dist).as_posix()
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        s3.put_object(
            Bucket=bucket,
            Key=key,
            Body=path.read_bytes(),
            ContentType=content_type,
            CacheControl=IMMUTABLE if path in assets else REVALIDATE,
        )
        written.append(key)
    s3.put_object(
        Bucket=bucket,
        Key=PREFIX + "config.json",
        Body=json.dumps(config, indent=2).encode(),
        ContentType="application/json",
        CacheControl=REVALIDATE,
    )
    return [*written, PREFIX + "config.json"]


def stack_outputs(cloudformation: Any, stack: str) -> dict[str, str]:
    described = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}


def main(argv: list[str] | None = None) -> int:
    import boto3  # the deploy's credentials and region, as sam deploy uses them

    parser = argparse.ArgumentParser(prog="python -m infra.deploy_site")
    parser.add_argument("--stack", required=True)
    parser.add_argument("--dist", type=Path, default=ROOT / "web" / "dist")
    args = parser.parse_args(argv)
    outputs = stack_outputs(boto3.client("cloudformation"), args.stack)
    keys = upload(boto3.client("s3"), outputs["SiteBucketName"], args.dist, site_config(outputs))
    boto3.client("cloudfront").create_invalidation(
        DistributionId=outputs["SiteDistributionId"],
        InvalidationBatch={
            "Paths": {"Quantity": 2, "Items": ["/app/", "/app/*"]},
            "CallerReference": f"deploy-site-{time.time_ns()}",
        },
    )
    print(f"{len(keys)} files in s3://{outputs['SiteBucketName']}/{PREFIX}; the app: {outputs['SiteUrl']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
