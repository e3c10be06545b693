#!/usr/bin/env python3
"""Creates benchmark repositories on the ECR endpoint in AWS_ENDPOINT_URL.

Usage: seed_ecr.py TOTAL MUTABLE [PREFIX]

Repositories PREFIX-00000 .. PREFIX-(TOTAL-1); the first MUTABLE are MUTABLE, the rest
IMMUTABLE. Created with 16 threads (the seeding is not timed).
"""
import sys
from concurrent.futures import ThreadPoolExecutor

import boto3


def main():
    total, mutable = int(sys.argv[1]), int(sys.argv[2])
    prefix = sys.argv[3] if len(sys.argv) > 3 else "svc"
    ecr = boto3.client("ecr")

    def create(i):
        ecr.create_repository(
            repositoryName="%s-%05d" % (prefix, i),
            imageTagMutability="MUTABLE" if i < mutable else "IMMUTABLE",
        )

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(create, range(total)))


if __name__ == "__main__":
    main()
