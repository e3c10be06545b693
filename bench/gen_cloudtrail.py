#!/usr/bin/env python3
"""Generates CloudTrail log files for bench/history.sh: gzip `{"Records":[...]}` files in the
trail's key layout under OUT/AWSLogs/o-bench0000/ACCOUNT/CloudTrail/REGION/2026/11/DD/, until
the compressed total reaches TARGET_BYTES.

About 2% of the records are ECR PutImage pushes (assumed-role and IAM-user identities, a few
refused with ImageTagAlreadyExistsException, some by digest only) over REPOS repositories with
6 tags each; `latest`, `dev` and `main` are re-pushed with new digests (they move), version
tags are pushed once. The rest are events of other services of realistic size (S3, STS, KMS,
EC2, ECR pulls, CloudWatch Logs). Deterministic (seeded). Two processes write disjoint files.

Usage: gen_cloudtrail.py OUT TARGET_BYTES [REPOS]
"""
import gzip, json, os, random, sys
from multiprocessing import Process

OUT = sys.argv[1]
TARGET = int(sys.argv[2])
REPOS = int(sys.argv[3]) if len(sys.argv) > 3 else 2000
ACCOUNTS = ["%012d" % (111111111111 * i) for i in range(1, 6)]
REGIONS = ["eu-west-1", "us-east-1"]
RECORDS_PER_FILE = 2000
TAGS = ["latest", "dev", "main", "v1", "v1.2", "v1.2.%d"]
AGENTS = [
    "docker/27.3.1 go/go1.22.7 git-commit/41ca978 kernel/6.8.0 os/linux arch/amd64 UpstreamClient(Docker-Client/27.3.1 \\\\(linux\\\\))",
    "aws-cli/2.22.0 md/awscrt#0.23.4 ua/2.0 os/linux#6.8.0 md/arch#x86_64 lang/python#3.12.6 md/pyimpl#CPython cfg/retry-mode#standard",
    "Boto3/1.35.71 md/Botocore#1.35.71 ua/2.0 os/linux#5.10.228 md/arch#x86_64 lang/python#3.12.7 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.35.71",
    "aws-sdk-go-v2/1.32.5 ua/2.1 os/linux lang/go#1.23.3 md/GOOS#linux md/GOARCH#amd64 api/ecr#1.36.6",
]

def role(acct, name, session):
    return ('{"type":"AssumedRole","principalId":"AROA%s:%s","arn":"arn:aws:sts::%s:assumed-role/%s/%s","accountId":"%s",'
            '"accessKeyId":"ASIA%s","sessionContext":{"sessionIssuer":{"type":"Role","principalId":"AROA%s","arn":"arn:aws:iam::%s:role/%s",'
            '"accountId":"%s","userName":"%s"},"webIdFederationData":{},"attributes":{"creationDate":"2026-11-01T08:00:00Z","mfaAuthenticated":"false"}}}'
            % (name.upper()[:12], session, acct, name, session, acct, session.upper()[:16], name.upper()[:12], acct, name, acct, name))

def user(acct, name):
    return ('{"type":"IAMUser","principalId":"AIDA%s","arn":"arn:aws:iam::%s:user/%s","accountId":"%s","accessKeyId":"AKIA%s","userName":"%s"}'
            % (name.upper(), acct, name, acct, name.upper(), name))

def manifest(n):
    m = {"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
         "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 7023, "digest": "sha256:%064x" % n},
         "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 1000 + i, "digest": "sha256:%064x" % (n * 7 + i)} for i in range(4)]}
    return json.dumps(json.dumps(m, indent=3))  # a JSON string of the indented manifest, as CloudTrail records it

def common(eid, t, acct, region, src, name, who, agent, req, resp, extra=""):
    return ('{"eventVersion":"1.08","userIdentity":%s,"eventTime":"%s","eventSource":"%s","eventName":"%s","awsRegion":"%s",'
            '"sourceIPAddress":"10.%d.%d.%d","userAgent":"%s","requestParameters":%s,"responseElements":%s,%s"requestID":"%s",'
            '"eventID":"%s","readOnly":false,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"%s",'
            '"eventCategory":"Management","tlsDetails":{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"%s.%s.amazonaws.com"}}'
            % (who, t, src, name, region, random.randrange(256), random.randrange(256), random.randrange(256), agent, req, resp, extra,
               eid[:18], eid, acct, src.split(".")[0], region))

def push(eid, t, acct, region, state, rnd):
    repo = "team-%d/service-%d" % (rnd.randrange(REPOS) % 50, rnd.randrange(REPOS))
    tag = rnd.choice(TAGS)
    if tag == "v1.2.%d":
        tag = tag % rnd.randrange(200)
    key = (acct, region, repo, tag)
    moving = tag in ("latest", "dev", "main")
    n = state.get(key)
    if n is None or moving:
        n = rnd.randrange(1 << 40)
        state[key] = n
    digest = "sha256:%064x" % n
    who = role(acct, "ci-%d" % rnd.randrange(20), "build-%d" % rnd.randrange(10**6)) if rnd.random() < 0.9 else user(acct, "dev%d" % rnd.randrange(10))
    agent = AGENTS[0] if rnd.random() < 0.8 else rnd.choice(AGENTS)
    m = manifest(n)
    if rnd.random() < 0.1:  # by digest alone (a multi-arch child)
        req = '{"repositoryName":"%s","registryId":"%s","imageManifest":%s,"imageManifestMediaType":"application/vnd.docker.distribution.manifest.v2+json","imageDigest":"%s"}' % (repo, acct, m, digest)
        resp = '{"image":{"registryId":"%s","repositoryName":"%s","imageId":{"imageDigest":"%s"},"imageManifest":%s,"imageManifestMediaType":"application/vnd.docker.distribution.manifest.v2+json"}}' % (acct, repo, digest, m)
        return common(eid, t, acct, region, "ecr.amazonaws.com", "PutImage", who, agent, req, resp)
    req = '{"repositoryName":"%s","imageTag":"%s","registryId":"%s","imageManifest":%s,"imageManifestMediaType":"application/vnd.docker.distribution.manifest.v2+json"}' % (repo, tag, acct, m)
    if rnd.random() < 0.02:
        return common(eid, t, acct, region, "ecr.amazonaws.com", "PutImage", who, agent, req, "null",
                      '"errorCode":"ImageTagAlreadyExistsException","errorMessage":"The image tag \'%s\' already exists in the \'%s\' repository and cannot be overwritten because the repository is immutable.",' % (tag, repo))
    resp = '{"image":{"registryId":"%s","repositoryName":"%s","imageId":{"imageDigest":"%s","imageTag":"%s"},"imageManifest":%s,"imageManifestMediaType":"application/vnd.docker.distribution.manifest.v2+json"}}' % (acct, repo, digest, tag, m)
    return common(eid, t, acct, region, "ecr.amazonaws.com", "PutImage", who, agent, req, resp)

def other(eid, t, acct, region, rnd):
    who = role(acct, rnd.choice(["app-runtime", "ci-3", "lambda-exec", "ecs-task"]), "s-%d" % rnd.randrange(10**6))
    agent = rnd.choice(AGENTS[1:])
    k = rnd.randrange(6)
    if k == 0:
        return common(eid, t, acct, region, "s3.amazonaws.com", "GetObject", who, agent,
                      '{"bucketName":"assets-%d","Host":"assets-%d.s3.%s.amazonaws.com","key":"static/js/chunk-%x.js"}' % (k, k, region, rnd.randrange(1 << 32)), "null",
                      '"additionalEventData":{"SignatureVersion":"SigV4","CipherSuite":"TLS_AES_128_GCM_SHA256","bytesTransferredIn":0,"AuthenticationMethod":"AuthHeader","x-amz-id-2":"%x","bytesTransferredOut":%d},' % (rnd.randrange(1 << 64), rnd.randrange(10**6)))
    if k == 1:
        return common(eid, t, acct, region, "sts.amazonaws.com", "AssumeRole", who, agent,
                      '{"roleArn":"arn:aws:iam::%s:role/deploy","roleSessionName":"s-%d","durationSeconds":3600}' % (acct, rnd.randrange(10**6)),
                      '{"credentials":{"accessKeyId":"ASIA%016X","sessionToken":"IQoJb3JpZ2luX2VjE%x","expiration":"Nov 20, 2026, 11:00:00 AM"},"assumedRoleUser":{"assumedRoleId":"AROA:s","arn":"arn:aws:sts::%s:assumed-role/deploy/s"}}' % (rnd.randrange(1 << 64), rnd.randrange(1 << 64), acct))
    if k == 2:
        return common(eid, t, acct, region, "kms.amazonaws.com", "Decrypt", who, agent,
                      '{"encryptionContext":{"aws:lambda:FunctionArn":"arn:aws:lambda:%s:%s:function:f-%d"},"encryptionAlgorithm":"SYMMETRIC_DEFAULT"}' % (region, acct, rnd.randrange(100)), "null")
    if k == 3:
        return common(eid, t, acct, region, "ecr.amazonaws.com", "BatchGetImage", who, agent,
                      '{"registryId":"%s","repositoryName":"team-1/service-%d","imageIds":[{"imageTag":"latest"}],"acceptedMediaTypes":["application/vnd.docker.distribution.manifest.v2+json","application/vnd.oci.image.manifest.v1+json"]}' % (acct, rnd.randrange(REPOS)), "null")
    if k == 4:
        return common(eid, t, acct, region, "ec2.amazonaws.com", "DescribeInstances", who, agent,
                      '{"instancesSet":{"items":[{"instanceId":"i-%017x"}]},"filterSet":{}}' % rnd.randrange(1 << 64), "null")
    return common(eid, t, acct, region, "logs.amazonaws.com", "CreateLogStream", who, agent,
                  '{"logGroupName":"/aws/lambda/f-%d","logStreamName":"2026/11/20/[$LATEST]%032x"}' % (rnd.randrange(100), rnd.randrange(1 << 128)), "null")

def worker(wid, workers):
    rnd = random.Random(wid)
    random.seed(wid + 100)
    state = {}
    total = 0
    f = wid
    while total < TARGET // workers:
        acct = ACCOUNTS[f % len(ACCOUNTS)]
        region = REGIONS[(f // len(ACCOUNTS)) % len(REGIONS)]
        day = 1 + (f // 10) % 28
        minute = (f * 5) % 1440
        path = os.path.join(OUT, "AWSLogs/o-bench0000", acct, "CloudTrail", region, "2026/11/%02d" % day,
                            "%s_CloudTrail_%s_202611%02dT%02d%02dZ_%08x.json.gz" % (acct, region, day, minute // 60, minute % 60, f))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        recs = []
        for i in range(RECORDS_PER_FILE):
            eid = "%08x-0000-4000-8000-%012x" % (f, i)
            t = "2026-11-%02dT%02d:%02d:%02dZ" % (day, minute // 60, minute % 60, rnd.randrange(60))
            recs.append(push(eid, t, acct, region, state, rnd) if rnd.random() < 0.02 else other(eid, t, acct, region, rnd))
        data = ('{"Records":[' + ",".join(recs) + "]}").encode()
        with open(path, "wb") as out:
            out.write(gzip.compress(data, compresslevel=6))
        total += os.path.getsize(path)
        f += workers

if __name__ == "__main__":
    procs = [Process(target=worker, args=(w, 2)) for w in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
        if p.exitcode:
            sys.exit(p.exitcode)
